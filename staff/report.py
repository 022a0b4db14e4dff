"""Build the homework write-up, report.pdf, from the outputs of `make homework`.

    python -m staff.report                         # results/ -> report.pdf
    python -m staff.report --results-dir R --output R/report.pdf

The pages follow the order the homework asks for in the write-up:

    1. the computational graph of f4, drawn from ``staff/f4_graph.py:F4_GRAPH``
    2. the best two-layer net: loss/accuracy plot, hyperparameters, final test accuracy
    3. the overfitting two-layer net: plot and hyperparameters
    4. the CNN (part1.ipynb): architecture table
    5. the CNN: hyperparameters, train/val accuracy plot and test accuracy
    6. the pretrained classifier (part2.ipynb): img1 and img2 with their predicted classes
    then the code (functions.py, layers.py, two_layer_net.py, train.py, the notebooks' code
    cells) in monospace pages.

Every number and picture is read from the run's own files under the results folder (the
outputs of `make homework`, docs/STAFF.md); nothing is typed in here. A missing file stops
the build with an error naming the file and the `make homework` stage that makes it.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib

from handin import manifest
from handin.manifest import GRADED_FILES
from staff.student_view import module_from_file

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# TrueType fonts keep the text extractable (Type 3 glyphs are not, for most tools).
plt.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42, "font.size": 10})

PAGE_SIZE = (8.27, 11.69)  # A4 portrait, inches
MONO = "DejaVu Sans Mono"

# Section titles, in write-up order (the tests look for each of them in the PDF text).
SECTION_TITLES = (
    "1. Computational graph of f4",
    "2. Two-layer net: best model",
    "3. Two-layer net: overfitting",
    "4. CNN on Fashion-MNIST: architecture",
    "5. CNN on Fashion-MNIST: hyperparameters and accuracy",
    "6. Pretrained classifier: img1 and img2",
    "Appendix: code",
)

# What the report reads: path under the results folder -> `make homework` stage that makes it.
REQUIRED_OUTPUTS = {
    "best/summary.json": "best",
    "best/plot.png": "best",
    "best/test.json": "test",
    "overfit/summary.json": "overfit",
    "overfit/plot.png": "overfit",
    "part1/summary.json": "part1",
    "part1/curves.png": "part1",
    "part2/predictions.json": "part2",
    "part2/img1.png": "part2",
    "part2/img2.png": "part2",
}

# Code appended at the end, relative to the repository root.
CODE_FILES = tuple(GRADED_FILES[name] for name in manifest.CODE_FILES)
NOTEBOOKS = tuple(GRADED_FILES[name] for name in manifest.NOTEBOOKS)

CODE_LINES_PER_PAGE = 76
CODE_COLUMNS = 100
TABLE_ROWS_PER_PAGE = 40


class MissingOutputError(FileNotFoundError):
    """A file the report needs is not there; the message says which stage makes it."""


@dataclass
class Results:
    """The run outputs the report shows (all read from the results folder)."""

    best: dict
    best_test: dict
    overfit: dict
    part1: dict
    part2: dict
    folder: Path

    def image(self, relpath: str):
        return mpimg.imread(self.folder / relpath)


def require(results_dir: Path, relpath: str) -> Path:
    """Path of results_dir/relpath; MissingOutputError naming the stage if it is absent."""
    path = results_dir / relpath
    if not path.is_file():
        stage = REQUIRED_OUTPUTS.get(relpath, "?")
        raise MissingOutputError(
            f"report: missing {path} -- it is made by the '{stage}' stage of make homework. "
            f"Run `make homework` (or `python -m staff.homework --results-dir {results_dir}`) "
            "first; it reruns only the stages whose outputs are missing or out of date."
        )
    return path


def read_json(results_dir: Path, relpath: str, keys: tuple[str, ...]) -> dict:
    """Load results_dir/relpath and check it has `keys` (a clear error if not)."""
    path = require(results_dir, relpath)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"report: {path} is not valid JSON ({err}); rerun its stage "
                         f"'{REQUIRED_OUTPUTS.get(relpath, '?')}' with --force") from err
    missing = [k for k in keys if k not in data]
    if missing:
        raise ValueError(f"report: {path} lacks the key(s) {missing}; it was written by an "
                         f"older or broken '{REQUIRED_OUTPUTS.get(relpath, '?')}' stage, "
                         "rerun it with --force")
    return data


def load_results(results_dir: Path) -> Results:
    """Check every required output exists, then read the JSON ones."""
    results_dir = Path(results_dir)
    for relpath in REQUIRED_OUTPUTS:
        require(results_dir, relpath)
    train_keys = ("hyperparameters", "final_train_accuracy", "final_val_accuracy")
    return Results(
        best=read_json(results_dir, "best/summary.json", train_keys),
        best_test=read_json(results_dir, "best/test.json", ("test_accuracy", "num_test")),
        overfit=read_json(results_dir, "overfit/summary.json", train_keys),
        part1=read_json(results_dir, "part1/summary.json",
                        ("hyperparameters", "architecture", "num_parameters",
                         "test_accuracy")),
        part2=read_json(results_dir, "part2/predictions.json", ("model", "images")),
        folder=results_dir,
    )


def load_f4_graph(graph_file: Path = ROOT / "staff" / "f4_graph.py") -> list:
    """F4_GRAPH from staff/f4_graph.py (the reference f4 as data): [(node, op, [inputs]), ...]."""
    if not graph_file.is_file():
        raise MissingOutputError(f"report: {graph_file} not found (the reference f4's graph)")
    graph = getattr(module_from_file(graph_file), "F4_GRAPH", None)
    if graph is None:
        raise ValueError(f"report: {graph_file} defines no F4_GRAPH (the list of "
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


def fmt(value) -> str:
    """A value from a JSON output as table text (floats to 4 significant digits)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def new_page(pdf: PdfPages, title: str, subtitle: str = ""):
    """A blank A4 figure with the section title at the top (saved by the caller)."""
    fig = plt.figure(figsize=PAGE_SIZE)
    fig.text(0.06, 0.955, title, fontsize=16, weight="bold", parse_math=False)
    if subtitle:
        fig.text(0.06, 0.945, textwrap.fill(subtitle, 120), fontsize=9, color="0.35", va="top",
                 parse_math=False)
    return fig


def save(pdf: PdfPages, fig) -> None:
    pdf.savefig(fig)
    plt.close(fig)


def show_image(fig, rect, image, caption: str = "") -> None:
    ax = fig.add_axes(rect)
    ax.imshow(image)
    ax.set_axis_off()
    if caption:
        ax.set_title(caption, fontsize=10, parse_math=False)


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


def hyperparameter_rows(summary: dict) -> list[list[str]]:
    return [[name, fmt(value)] for name, value in summary["hyperparameters"].items()]


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


def page_f4_graph(pdf, nodes, note: str) -> None:
    fig = new_page(pdf, SECTION_TITLES[0], note)
    fig.text(0.06, 0.905, "Homework 4 - Machine Learning: write-up (generated by "
             "staff/report.py from the outputs of make homework)", fontsize=9,
             parse_math=False)
    ax = fig.add_axes([0.04, 0.45, 0.92, 0.43])
    draw_graph(ax, nodes)
    legend = [FancyBboxPatch((0, 0), 1, 1, fc=c, ec="0.3") for c in ("0.88", "#cfe3ff", "#ffd9a8")]
    ax.legend(legend, ["input", "operator node (name / op)", "output"], loc="lower left",
              fontsize=8, frameon=False, ncols=3)
    rows = [[name, op, ", ".join(inputs)] for name, op, inputs in nodes]
    table(fig, [0.06, 0.05, 0.88, 0.36], rows, ["node", "operator", "inputs"],
          title="Nodes in evaluation order (f4 in backprop/functions.py)",
          col_widths=[0.25, 0.3, 0.45])
    save(pdf, fig)


def page_training_run(pdf, title: str, subtitle: str, image, caption: str, summary: dict,
                      rows) -> None:
    """A run's page: its plot on top, its hyperparameters and its `rows` of results below."""
    fig = new_page(pdf, title, subtitle)
    show_image(fig, [0.06, 0.47, 0.88, 0.44], image, caption)
    table(fig, [0.06, 0.05, 0.42, 0.36], hyperparameter_rows(summary), ["hyperparameter", "value"],
          title="Hyperparameters")
    table(fig, [0.54, 0.05, 0.40, 0.36], rows, ["result", "value"], title="Results")
    save(pdf, fig)


def page_best(pdf, res: Results) -> None:
    best, test = res.best, res.best_test
    rows = [
        ["final test accuracy", pct(test["test_accuracy"])],
        ["test images", fmt(test["num_test"])],
        ["final train accuracy", pct(best["final_train_accuracy"])],
        ["final val accuracy", pct(best["final_val_accuracy"])],
    ]
    if "train_seconds" in best:
        rows.append(["training time", f"{best['train_seconds']:.1f} s"])
    page_training_run(pdf, SECTION_TITLES[1], "neuralnet/train.py --config best; "
                      "neuralnet/test.py on its checkpoint (test set used once)",
                      res.image("best/plot.png"), "Loss and accuracy during training", best, rows)


def page_overfit(pdf, res: Results) -> None:
    over = res.overfit
    gap = over["final_train_accuracy"] - over["final_val_accuracy"]
    rows = [
        ["final train accuracy", pct(over["final_train_accuracy"])],
        ["final val accuracy", pct(over["final_val_accuracy"])],
        ["train - val gap", pct(gap)],
    ]
    page_training_run(pdf, SECTION_TITLES[2], "neuralnet/train.py --config overfit: "
                      "train accuracy far above validation accuracy",
                      res.image("overfit/plot.png"), "Loss and accuracy during training", over,
                      rows)


def pages_architecture(pdf, res: Results) -> None:
    arch = [[fmt(c) for c in layer] for layer in res.part1["architecture"]]
    chunks = [arch[i:i + TABLE_ROWS_PER_PAGE] for i in range(0, len(arch), TABLE_ROWS_PER_PAGE)]
    chunks = chunks or [[]]
    for n, chunk in enumerate(chunks):
        title = SECTION_TITLES[3] + (f" (continued {n + 1})" if n else "")
        fig = new_page(pdf, title, "part1.ipynb: the network, layer by layer")
        if n == len(chunks) - 1:
            chunk = [*chunk, ["total trainable parameters", "", f"{res.part1['num_parameters']:,}"]]
        height = min(0.85, 0.025 * (len(chunk) + 1))
        table(fig, [0.06, 0.9 - height, 0.88, height], chunk,
              ["layer", "output shape", "parameters"], col_widths=[0.4, 0.35, 0.25])
        save(pdf, fig)


def page_cnn_results(pdf, res: Results) -> None:
    p1 = res.part1
    rows = [["test accuracy", pct(p1["test_accuracy"])]]
    if p1.get("val_accuracy"):
        rows.append(["final val accuracy", pct(p1["val_accuracy"][-1])])
    if "train_seconds" in p1:
        rows.append(["training time", f"{p1['train_seconds']:.1f} s"])
    page_training_run(pdf, SECTION_TITLES[4], "part1.ipynb: training curves and the test set",
                      res.image("part1/curves.png"), "Training and validation curves", p1, rows)


def page_pretrained(pdf, res: Results) -> None:
    p2 = res.part2
    subtitle = f"part2.ipynb: model {p2['model']}"
    if p2.get("preprocessing"):
        subtitle += f"; preprocessing: {p2['preprocessing']}"
    fig = new_page(pdf, SECTION_TITLES[5], subtitle)
    images = {entry["name"]: entry for entry in p2["images"]}
    for k, name in enumerate(("img1", "img2")):
        if name not in images:
            raise ValueError(f"report: {res.folder / 'part2/predictions.json'} has no entry "
                             f"for {name}; rerun the 'part2' stage with --force")
        entry = images[name]
        top = 0.90 - k * 0.44
        top5 = entry.get("top5", [])
        predicted = top5[0][0] if top5 else "?"
        show_image(fig, [0.06, top - 0.38, 0.42, 0.38], res.image(f"part2/{name}.png"),
                   f"{name}: predicted '{predicted}'")
        rows = [[str(label), pct(float(prob))] for label, prob in top5]
        table(fig, [0.52, top - 0.30, 0.42, 0.28], rows, ["class (top 5)", "probability"],
              title=f"{name} top-5", col_widths=[0.7, 0.3])
        if entry.get("source"):
            fig.text(0.52, top - 0.36, textwrap.shorten(f"source: {entry['source']}", 70),
                     fontsize=7, color="0.35", parse_math=False)
    save(pdf, fig)


def notebook_code(path: Path) -> str:
    """The code cells of a notebook, one after another with a header line each."""
    nb = json.loads(path.read_text())
    parts = []
    for n, cell in enumerate(c for c in nb.get("cells", []) if c.get("cell_type") == "code"):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        parts.append(f"# ---- code cell {n + 1} ----\n{source.rstrip()}\n")
    return "\n".join(parts)


def wrap_code(text: str, width: int = CODE_COLUMNS) -> list[str]:
    """Split code into printable lines, wrapping long ones with a continuation mark."""
    lines = []
    for line in text.expandtabs(4).splitlines():
        while len(line) > width:
            lines.append(line[:width])
            line = "  \u21aa " + line[width:]
        lines.append(line)
    return lines


def code_sources(root: Path) -> list[tuple[str, str]]:
    sources = []
    for rel in (*CODE_FILES, *NOTEBOOKS):
        path = root / rel
        if not path.is_file():
            raise MissingOutputError(f"report: {path} not found (code for the appendix)")
        text = notebook_code(path) if rel.endswith(".ipynb") else path.read_text()
        sources.append((rel, text))
    return sources


def pages_code(pdf, sources) -> None:
    fig = new_page(pdf, SECTION_TITLES[6], "the code the homework asks to append")
    for n, (rel, text) in enumerate(sources):
        fig.text(0.08, 0.88 - 0.03 * n, f"A.{n + 1}  {rel}  ({len(text.splitlines())} lines)",
                 fontsize=11, family=MONO, parse_math=False)
    save(pdf, fig)
    for n, (rel, text) in enumerate(sources):
        lines = wrap_code(text)
        pages = max(1, -(-len(lines) // CODE_LINES_PER_PAGE))
        for p in range(pages):
            chunk = lines[p * CODE_LINES_PER_PAGE:(p + 1) * CODE_LINES_PER_PAGE]
            fig = plt.figure(figsize=PAGE_SIZE)
            fig.text(0.05, 0.975, f"A.{n + 1} {rel} ({p + 1}/{pages})", fontsize=10,
                     weight="bold", family=MONO, parse_math=False)
            fig.text(0.05, 0.955, "\n".join(chunk), fontsize=8, family=MONO, va="top",
                     linespacing=1.2, parse_math=False)
            save(pdf, fig)


def build_report(results_dir: Path, output: Path, note: str = "", root: Path = ROOT) -> Path:
    """Write the report PDF to `output` and return its path."""
    results_dir, output = Path(results_dir), Path(output)
    res = load_results(results_dir)  # fails early, before any page is drawn
    nodes = load_f4_graph(root / "staff" / "f4_graph.py")
    sources = code_sources(root)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    with PdfPages(tmp) as pdf:
        page_f4_graph(pdf, nodes, note)
        page_best(pdf, res)
        page_overfit(pdf, res)
        pages_architecture(pdf, res)
        page_cnn_results(pdf, res)
        page_pretrained(pdf, res)
        pages_code(pdf, sources)
        info = pdf.infodict()
        info["Title"] = "Homework 4 - Machine Learning: write-up"
        info["Subject"] = f"generated from {results_dir} on {date.today().isoformat()}"
    tmp.replace(output)
    return output


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", type=Path, default=ROOT / "results",
                        help="folder with the outputs of make homework (default: results/)")
    parser.add_argument("--output", type=Path, default=ROOT / "report.pdf",
                        help="the PDF to write (default: report.pdf at the repository root)")
    parser.add_argument("--code-root", type=Path, default=ROOT,
                        help="repository whose F4_GRAPH is drawn and whose code is appended "
                             "(default: this one)")
    parser.add_argument("--note", default="",
                        help="a line printed under the first title (e.g. that this is a smoke run)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        path = build_report(args.results_dir, args.output, args.note, args.code_root)
    except (MissingOutputError, ValueError) as err:
        print(err, file=sys.stderr)
        return 2
    print(f"report: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
