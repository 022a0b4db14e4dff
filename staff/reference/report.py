"""Build the course's write-up, report.pdf, from the outputs of `make homework`.

    python -m staff.reference.report                         # results/ -> report.pdf
    python -m staff.reference.report --results-dir R --output R/report.pdf [--smoke]

It is the students' own builder (handin/writeup.py, `make writeup` in the kit) fed with
the reference's files instead of a student's: the runs of train.py and test.py under the
results folder (best/ and overfit/: plot.png, summary.json; best/test.json), the executed
notebooks (<results>/notebooks/partN.ipynb when make homework ran copies, else the
committed partN.ipynb it ran in place), the code of this repository, and for task 1.2 the
graph of the reference f4, drawn here from staff/reference/f4_graph.py into <results>/f4_graph.png.
So the pages, their order and every number are made as in a student's write-up
(docs/STAFF.md).

A missing input does not stop the build: its page says what is missing and the make
homework stage that makes it, the console lists them all, and the exit status is 2.
"""

import argparse
import sys
from pathlib import Path

import matplotlib

from handin import module_prog, writeup
from handin import writeup_questions as questions
from staff.grading.student_view import module_from_file

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STAFF_NAME = "course staff: the reference solution (make homework)"

# The run outputs the report reads, under the results folder -> the stage that makes them.
REQUIRED_OUTPUTS = {
    "best/summary.json": "best",
    "best/plot.png": "best",
    "best/test.json": "test",
    "overfit/summary.json": "overfit",
    "overfit/plot.png": "overfit",
}
NOTEBOOK_STAGES = ("part1", "part2")
F4_PICTURE = "f4_graph.png"  # under the results folder, drawn from staff/reference/f4_graph.py
# What a missing page tells staff to run (the students' pages name their own commands).
STAGE_FIXES = {key: f"make homework (its '{key}' stage; "
                    f"python -m staff.reference.homework --only {key})"
               for key in ("best", "overfit", "test", *NOTEBOOK_STAGES)}


def executed_notebook(results_dir, root, part):
    """The notebook make homework executed: a copy under <results>/notebooks/, or the
    committed one it ran in place."""
    copy = Path(results_dir) / "notebooks" / f"{part}.ipynb"
    return copy if copy.is_file() else Path(root) / f"{part}.ipynb"


def load_f4_graph(graph_file: Path = ROOT / "staff" / "reference" / "f4_graph.py") -> list:
    """F4_GRAPH from staff/reference/f4_graph.py (the reference f4 as data):
    [(node, op, [inputs]), ...]."""
    if not graph_file.is_file():
        raise FileNotFoundError(f"{graph_file} not found (the reference f4's graph)")
    graph = getattr(module_from_file(graph_file), "F4_GRAPH", None)
    if graph is None:
        raise ValueError(f"{graph_file} defines no F4_GRAPH (the list of "
                         "(node_name, op, input_names) the f4 graph is drawn from)")
    return validate_graph(graph)


def validate_graph(graph) -> list:
    """Check F4_GRAPH's shape: nodes in evaluation order, each input defined before use."""
    nodes = []
    defined = set()
    for entry in graph:
        if len(entry) != 3:
            raise ValueError(f"F4_GRAPH entry {entry!r} is not (node_name, op, input_names)")
        name, op, inputs = entry
        if isinstance(inputs, str):
            inputs = [inputs]
        if name in defined:
            raise ValueError(f"F4_GRAPH defines node {name!r} twice")
        defined.add(name)
        nodes.append((str(name), str(op), [str(i) for i in inputs]))
    if not nodes:
        raise ValueError("F4_GRAPH is empty")
    return nodes


def graph_layout(nodes) -> tuple[dict, dict]:
    """Column (depth) and vertical position of every node and graph input.

    An operator sits one column right of its deepest input; a graph input (a leaf) sits
    just left of its first consumer. Within a column nodes are ordered by the mean height
    of their neighbours (a few barycentre sweeps), which keeps edge crossings few.
    """
    produced = {name for name, _, _ in nodes}
    leaves = [i for _, _, inputs in nodes for i in inputs if i not in produced]
    leaves = list(dict.fromkeys(leaves))
    depth = dict.fromkeys(leaves, 0)
    for name, _, inputs in nodes:
        depth[name] = 1 + max((depth[i] for i in inputs), default=0)
    for leaf in leaves:
        consumers = [depth[n] for n, _, inputs in nodes if leaf in inputs]
        depth[leaf] = min(consumers) - 1
    columns: dict[int, list[str]] = {}
    for name in [*leaves, *(n for n, _, _ in nodes)]:
        columns.setdefault(depth[name], []).append(name)
    neighbours: dict[str, list[str]] = {name: [] for name in depth}
    for name, _, inputs in nodes:
        for i in inputs:
            neighbours[name].append(i)
            neighbours[i].append(name)

    def place(col_names):
        return {n: (len(col_names) - 1) / 2 - idx for idx, n in enumerate(col_names)}

    height = {n: h for names in columns.values() for n, h in place(names).items()}
    for _ in range(4):  # barycentre sweeps: move each node towards its neighbours
        for col in sorted(columns):
            order = list(columns[col])
            bary = {n: sum(height[m] for m in neighbours[n]) / len(neighbours[n])
                    for n in order}
            rank = {n: k for k, n in enumerate(order)}
            order.sort(key=lambda n, bary=bary, rank=rank: (-bary[n], rank[n]))
            columns[col] = order
            height.update(place(order))
    return depth, {"columns": columns, "height": height}


def draw_graph(ax, nodes) -> None:
    """Draw the graph: inputs as grey rounded boxes, operators as blue boxes, arrows = edges."""
    depth, lay = graph_layout(nodes)
    columns, height = lay["columns"], lay["height"]
    ops = {name: op for name, op, _ in nodes}
    first = min(columns)
    ncols = max(columns) - first + 1
    nrows = max(len(c) for c in columns.values())
    pos = {name: (depth[name] - first, height[name]) for name in depth}
    ax.set_xlim(-0.7, ncols - 0.3)
    ax.set_ylim(-(nrows / 2) - 0.2, nrows / 2 + 0.2)
    ax.set_axis_off()
    output = nodes[-1][0]
    for name, _, inputs in nodes:
        for i in inputs:
            ax.annotate("", xy=pos[name], xytext=pos[i],
                        arrowprops={"arrowstyle": "-|>", "color": "0.3", "lw": 1.0,
                                    "shrinkA": 22, "shrinkB": 22})
    for name, (x, y) in pos.items():
        if name in ops:
            label = f"{name}\n{ops[name]}"
            face = "#ffd9a8" if name == output else "#cfe3ff"
        else:
            label = name
            face = "0.88"
        ax.text(x, y, label, ha="center", va="center", fontsize=9, parse_math=False,
                bbox={"boxstyle": "round,pad=0.4", "fc": face, "ec": "0.3"})


def table(fig, rect, rows, col_labels, title: str = "", col_widths=None) -> None:
    """A simple left-aligned table of strings in the figure area `rect`."""
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=11, loc="left", weight="bold", parse_math=False)
    cells = [[str(c).replace("$", r"\$") for c in row] for row in rows] or [["-"] * len(col_labels)]
    tab = ax.table(cellText=cells, colLabels=col_labels, loc="upper left", cellLoc="left",
                   colLoc="left", colWidths=col_widths)
    tab.auto_set_font_size(False)
    tab.set_fontsize(9)
    tab.scale(1, 1.3)
    for (row, _), cell in tab.get_celld().items():
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("0.9")


def draw_f4_picture(nodes, path):
    """The graph of `nodes` and the table of its nodes, as a PNG at `path` (task 1.2)."""
    fig = plt.figure(figsize=(10, 8.5))
    ax = fig.add_axes([0.02, 0.42, 0.96, 0.56])
    draw_graph(ax, nodes)
    legend = [FancyBboxPatch((0, 0), 1, 1, fc=c, ec="0.3") for c in ("0.88", "#cfe3ff", "#ffd9a8")]
    ax.legend(legend, ["input", "operator node (name / op)", "output"], loc="lower left",
              fontsize=8, frameon=False, ncols=3)
    rows = [[name, op, ", ".join(inputs)] for name, op, inputs in nodes]
    table(fig, [0.06, 0.02, 0.88, 0.36], rows, ["node", "operator", "inputs"],
          title="Nodes in evaluation order (the reference f4, staff/reference/f4_graph.py)",
          col_widths=[0.25, 0.3, 0.45])
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report_inputs(results_dir, root=ROOT, note="", smoke=False, f4_picture=None):
    """The write-up's inputs for the outputs of make homework under `results_dir`."""
    return writeup.Inputs(
        kit=Path(root), runs=Path(results_dir),
        part1=executed_notebook(results_dir, root, "part1"),
        part2=executed_notebook(results_dir, root, "part2"),
        answers=Path(root) / questions.ANSWERS_FILE, f4_picture=f4_picture, name=STAFF_NAME,
        note=note, fixes=STAGE_FIXES, full_runs=not smoke)


def build_report(results_dir, output, note="", root=ROOT, smoke=False):
    """Write the report PDF to `output`; returns the handin.writeup.Writeup (its .gaps say
    what is missing)."""
    nodes = load_f4_graph(Path(root) / "staff" / "reference" / "f4_graph.py")
    picture = Path(results_dir) / F4_PICTURE
    picture.parent.mkdir(parents=True, exist_ok=True)
    draw_f4_picture(nodes, picture)
    return writeup.build(report_inputs(results_dir, root, note, smoke, picture), Path(output))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", type=Path, default=ROOT / "results",
                        help="folder with the outputs of make homework (default: results/)")
    parser.add_argument("--output", type=Path, default=ROOT / "report.pdf",
                        help="the PDF to write (default: report.pdf at the repository root)")
    parser.add_argument("--code-root", type=Path, default=ROOT,
                        help="repository whose F4_GRAPH is drawn and whose code is shown "
                             "(default: this one)")
    parser.add_argument("--note", default="",
                        help="a line printed on the title page (e.g. that this is a smoke run)")
    parser.add_argument("--smoke", action="store_true",
                        help="the runs are make homework --smoke runs (not counted missing)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = build_report(args.results_dir, args.output, args.note, args.code_root,
                              args.smoke)
    except (FileNotFoundError, ValueError) as err:
        print(f"report: {err}", file=sys.stderr)
        return 2
    print(f"report: wrote {args.output} ({result.pages} pages)")
    writeup.report_gaps(result, sys.stdout)
    return 2 if result.gaps else 0


if __name__ == "__main__":
    sys.exit(main())
