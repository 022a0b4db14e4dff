"""Train a two-layer network (fc -> relu -> fc) on CIFAR-10 with minibatch SGD.

    python train.py                      # the hyperparameters at the top of main()
    python train.py --config best        # your best settings (config_settings below)
    python train.py --config overfit     # your settings that memorize a small training set
    python train.py --help               # all flags

Per epoch it shows a progress bar with the running loss, then prints the training and
validation accuracy. At the end it writes the two-panel plot (--plot-file), the model
(--checkpoint-file, plus its preprocessing statistics next to it, for test.py) and a JSON
summary (--summary-file). `--config best` and `--config overfit` write them to
runs/best/ and runs/overfit/ next to this file (plot.png, checkpoint.npz, summary.json),
where test.py and the write-up (python -m handin.writeup) find them; the default config
writes plot.pdf, checkpoint.npz and checkpoint.json in the current folder. Runs from the
repository root and from this folder.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from checkpoint import new_two_layer_net, save_checkpoint
from data import CifarDataError, DataSampler, load_cifar10
from layers import l2_regularization, softmax_loss
from optim import SGD, SGDMomentum, one_cycle_lr
from tqdm import tqdm
from two_layer_net import TwoLayerNet
from utils import check_accuracy, not_written, plot_training

# Settings beyond the homework's six, with the values the homework implies (plain SGD,
# constant learning rate, no augmentation). config_settings("best") / ("overfit") may
# change them too.
EXTRA_DEFAULTS = {
    "num_val": 1000,         # validation images, taken from the end of the training batches
    "weight_scale": 1e-3,    # std of the initial weights
    "momentum": 0.0,         # 0: plain SGD (optim.SGD); > 0: SGDMomentum (Nesterov)
    "schedule": "constant",  # "constant" or "onecycle" (warm-up, then cosine decay)
    "flip": False,           # random horizontal flips of training images
    "shift": 0,              # random translations by up to this many pixels
    "eval_size": 1000,       # training images used for the per-epoch training accuracy
    "seed": 0,               # seeds the initialization and the minibatch order
}

CONFIG_NAMES = ("default", "best", "overfit")


def config_settings(name):
    """The settings that --config `name` puts over the homework defaults (dict).

    "default" changes nothing. "best" holds the settings of your best model (the homework
    asks for >= 40% validation accuracy) and "overfit" those of a net that memorizes a small
    training set (>= 75% training accuracy). Keys: the homework's six hyperparameters and
    those of EXTRA_DEFAULTS.
    """
    if name not in CONFIG_NAMES:
        raise ValueError(f"unknown config {name!r}; choose one of {CONFIG_NAMES}")
    if name == "default":
        return {}
    # BEGIN SOLUTION
    tuned = {
        "best": {
            "num_train": 49000, "hidden_dim": 1024, "batch_size": 200, "num_epochs": 25,
            "learning_rate": 0.03, "reg": 1e-3, "weight_scale": 0.02, "momentum": 0.9,
            "schedule": "onecycle", "flip": True, "shift": 2,
        },
        "overfit": {
            "num_train": 5000, "hidden_dim": 1024, "batch_size": 100, "num_epochs": 20,
            "learning_rate": 0.02, "reg": 0.0, "weight_scale": 0.02, "momentum": 0.9,
            "schedule": "onecycle", "eval_size": 5000,  # accuracy on the whole training set
        },
    }
    return tuned[name]
    # END SOLUTION


def checked_config_settings(name):
    """config_settings(name), or SystemExit saying what to fill in when it is still a stub."""
    try:
        return config_settings(name)
    except NotImplementedError:
        raise SystemExit(f"error: --config {name}: config_settings() in train.py raised "
                         "NotImplementedError; fill in your tuned settings there") from None


HYPERPARAMETER_FLAGS = ("num_train", "num_val", "hidden_dim", "batch_size", "num_epochs",
                        "learning_rate", "reg", "seed")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the step and learning rate."""


def training_step(model, X_batch, y_batch, reg):
    """One forward and backward pass: softmax loss plus L2 on every weight matrix.

    Inputs:
    - model: a Classifier (e.g. TwoLayerNet)
    - X_batch: (N, D) examples, y_batch: (N,) integer labels
    - reg: L2 strength; adds reg / 2 * sum(W**2) for every weight matrix W (never biases)

    Returns a tuple of:
    - loss: scalar, data loss + regularization loss
    - grads: dict name -> gradient of the loss, same keys and shapes as model.parameters()
    """
    # BEGIN SOLUTION
    scores, cache = model.forward(X_batch)
    loss, grad_scores = softmax_loss(scores, y_batch)
    grads = model.backward(grad_scores, cache)
    for name, param in model.parameters().items():
        if param.ndim >= 2:  # weight matrices only; biases are not regularized
            reg_loss, reg_grad = l2_regularization(param, reg)
            loss += reg_loss
            grads[name] += reg_grad
    # END SOLUTION
    return loss, grads


def make_optimizer(model, hp):
    """Plain SGD when hp["momentum"] is 0 (the homework), else Nesterov SGDMomentum."""
    if hp["momentum"]:
        return SGDMomentum(model.parameters(), hp["learning_rate"], momentum=hp["momentum"])
    return SGD(model.parameters(), hp["learning_rate"])


def learning_rate_at(step, total_steps, hp):
    """The learning rate of step ``step`` (0-based) under hp["schedule"]."""
    if hp["schedule"] == "onecycle":
        return one_cycle_lr(step, total_steps, hp["learning_rate"])
    if hp["schedule"] == "constant":
        return hp["learning_rate"]
    raise ValueError(f"unknown schedule {hp['schedule']!r}: use 'constant' or 'onecycle'")


def train(model, data, hp, print_every=0, progress=True, log=print):
    """Train ``model`` in place on data["X_train"], data["y_train"] with the settings ``hp``.

    Returns the history dict: loss_history (per iteration), train_accuracy and
    val_accuracy (per epoch), epoch_seconds (training time at the end of each epoch,
    accuracy checks included) and train_seconds. Raises TrainingDiverged on a NaN/inf loss.
    """
    sampler = DataSampler(data["X_train"], data["y_train"], hp["batch_size"], shuffle=True,
                          seed=hp["seed"], flip=hp["flip"], shift=hp["shift"])
    n_eval = min(hp["eval_size"], len(data["X_train"]))
    train_eval = DataSampler(data["X_train"][:n_eval], data["y_train"][:n_eval], 1000,
                             shuffle=False)
    val_eval = DataSampler(data["X_val"], data["y_val"], 1000, shuffle=False)
    optimizer = make_optimizer(model, hp)
    total_steps = hp["num_epochs"] * len(sampler)
    history = {"loss_history": [], "train_accuracy": [], "val_accuracy": [],
               "epoch_seconds": []}
    start = time.perf_counter()
    for epoch in range(1, hp["num_epochs"] + 1):
        running = train_epoch(model, sampler, optimizer, hp, epoch, total_steps,
                              history["loss_history"], progress, print_every, log)
        history["train_accuracy"].append(check_accuracy(model, train_eval))
        history["val_accuracy"].append(check_accuracy(model, val_eval)
                                       if len(data["X_val"]) else float("nan"))
        history["epoch_seconds"].append(time.perf_counter() - start)
        log(f"epoch {epoch}/{hp['num_epochs']}: loss {running:.4f}, "
            f"train acc {history['train_accuracy'][-1]:.4f}, "
            f"val acc {history['val_accuracy'][-1]:.4f} "
            f"({history['epoch_seconds'][-1]:.1f} s)")
    history["train_seconds"] = time.perf_counter() - start
    return history


def train_epoch(model, sampler, optimizer, hp, epoch, total_steps, losses, progress=True,
                print_every=0, log=print):
    """One pass over ``sampler``: a training step and an update per minibatch.

    Appends each step's loss to ``losses`` (its length is the number of steps so far) and
    returns the running (exponentially smoothed) loss of the epoch.
    """
    bar = tqdm(sampler, desc=f"epoch {epoch}/{hp['num_epochs']}", leave=False,
               disable=not progress, mininterval=0.5, file=sys.stdout)
    running = None
    for X_batch, y_batch in bar:
        optimizer.learning_rate = learning_rate_at(len(losses), total_steps, hp)
        with np.errstate(over="ignore", invalid="ignore"):  # caught just below
            loss, grads = training_step(model, X_batch, y_batch, hp["reg"])
        if not np.isfinite(loss):
            raise TrainingDiverged(
                f"loss is {loss} at step {len(losses) + 1} (epoch {epoch}) with learning rate "
                f"{optimizer.learning_rate:g}: training stopped. Lower the learning rate "
                "(or reg) and try again.")
        optimizer.step(grads)
        losses.append(float(loss))
        running = losses[-1] if running is None else 0.95 * running + 0.05 * losses[-1]
        if progress:
            bar.set_postfix(loss=f"{running:.3f}", refresh=False)
        if print_every and len(losses) % print_every == 0:
            log(f"  iteration {len(losses)}/{total_steps}: loss {losses[-1]:.4f}")
    return running


def fit(data, hp, print_every=0, progress=True, log=print):
    """Build a TwoLayerNet from ``hp`` and train it on ``data``; returns (model, history)."""
    # float32 (when your TwoLayerNet takes a dtype): the matrix products run about twice
    # as fast as in float64, numpy's default
    model = new_two_layer_net(TwoLayerNet, data["X_train"].shape[1], 10, hp["hidden_dim"],
                              hp["weight_scale"], dtype=np.float32, seed=hp["seed"])
    history = train(model, data, hp, print_every=print_every, progress=progress, log=log)
    return model, history


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a two-layer network on CIFAR-10.")
    parser.add_argument("--config", choices=CONFIG_NAMES, default="default",
                        help="default: the hyperparameters at the top of main(); best / "
                             "overfit: the settings you put in config_settings() for your "
                             "best model / for memorizing a small training set")
    parser.add_argument("--data-dir", help="folder holding cifar-10-batches-py/ or "
                                           "cifar-10-python.tar.gz (else $HW4_DATA, else here)")
    parser.add_argument("--plot-file",
                        help="training plot; the suffix picks the format (.pdf, .png). "
                             "Default: runs/<config>/plot.png for --config best / overfit, "
                             "else plot.pdf")
    parser.add_argument("--checkpoint-file",
                        help="where to save the trained model (.npz). Default: "
                             "runs/<config>/checkpoint.npz for --config best / overfit, "
                             "else checkpoint.npz")
    parser.add_argument("--summary-file",
                        help="JSON summary of the run. Default: runs/<config>/summary.json "
                             "for --config best / overfit, else the checkpoint path with "
                             ".json")
    parser.add_argument("--print-every", type=int, default=0,
                        help="also print the loss every N iterations (0: never)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing checkpoint file")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny run (400 training images, 2 epochs) to check the pipeline")
    for name in HYPERPARAMETER_FLAGS:
        kind = float if name in ("learning_rate", "reg") else int
        parser.add_argument("--" + name.replace("_", "-"), type=kind,
                            help=f"override {name} of the chosen config")
    return parser.parse_args(argv)


def build_hyperparameters(args, homework):
    """Homework defaults <- extras <- --config <- --smoke <- explicit flags."""
    hp = {**homework, **EXTRA_DEFAULTS}
    hp.update(checked_config_settings(args.config))
    if args.smoke:
        hp.update(num_train=min(hp["num_train"], 400), num_val=min(hp["num_val"], 100),
                  num_epochs=min(hp["num_epochs"], 2), eval_size=min(hp["eval_size"], 100))
    for name in HYPERPARAMETER_FLAGS:
        if getattr(args, name) is not None:
            hp[name] = getattr(args, name)
    for name in ("num_train", "num_val", "hidden_dim", "batch_size", "num_epochs"):
        if hp[name] < 1:
            raise SystemExit(f"error: {name} must be >= 1, got {hp[name]}")
    if not hp["learning_rate"] > 0 or hp["reg"] < 0:
        raise SystemExit(f"error: need learning_rate > 0 and reg >= 0, got "
                         f"{hp['learning_rate']} and {hp['reg']}")
    return hp


def main(argv=None):
    args = parse_args(argv)
    # BEGIN HYPERPARAMETERS
    num_train = 20000
    hidden_dim = 16
    batch_size = 128
    num_epochs = 10
    learning_rate = 1e-4
    reg = 1.0
    # END HYPERPARAMETERS
    hp = build_hyperparameters(args, dict(
        num_train=num_train, hidden_dim=hidden_dim, batch_size=batch_size,
        num_epochs=num_epochs, learning_rate=learning_rate, reg=reg))

    checkpoint, plot_file, summary_file = output_files(args)
    if checkpoint.exists() and not args.overwrite:
        raise SystemExit(f"error: {checkpoint} already exists; pass --overwrite to replace "
                         "it, or choose another --checkpoint-file")

    print(f"config {args.config}: " + ", ".join(f"{k}={v}" for k, v in hp.items()))
    try:
        data = load_cifar10(num_train=hp["num_train"], num_val=hp["num_val"], num_test=0,
                            data_dir=args.data_dir)
    except (CifarDataError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None
    try:
        model, history = fit(data, hp, print_every=args.print_every,
                             progress=not args.no_progress)
    except TrainingDiverged as err:
        raise SystemExit(f"error: {err}") from None
    except NotImplementedError as err:  # a part of the homework still to write
        raise SystemExit(not_written(err)) from None

    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(model, checkpoint, data["mean"], data["std"])
    write_plot_and_summary(history, hp, args, (checkpoint, plot_file, summary_file))
    print(f"wrote {checkpoint}, {plot_file}, {summary_file}")


RUNS_DIR = Path(__file__).resolve().parent / "runs"  # where --config best / overfit write


def output_files(args):
    """(checkpoint, plot, summary) paths: the flags, else the config's defaults."""
    if args.config in ("best", "overfit"):
        folder = RUNS_DIR / args.config
        defaults = (folder / "checkpoint.npz", folder / "plot.png", folder / "summary.json")
    else:
        defaults = (Path("checkpoint.npz"), Path("plot.pdf"), None)
    checkpoint = Path(args.checkpoint_file) if args.checkpoint_file else defaults[0]
    plot_file = Path(args.plot_file) if args.plot_file else defaults[1]
    summary_file = Path(args.summary_file) if args.summary_file else (
        defaults[2] if defaults[2] and not args.checkpoint_file
        else checkpoint.with_suffix(".json"))
    return checkpoint, plot_file, summary_file


def write_plot_and_summary(history, hp, args, files):
    """The training plot and the run's JSON summary (hyperparameters, history, where the
    plot and the checkpoint are); files: (checkpoint, plot, summary) paths."""
    checkpoint, plot_file, summary_file = files
    plot_training(history["loss_history"], history["train_accuracy"],
                  history["val_accuracy"], plot_file,
                  title=f"two-layer net, config {args.config}")
    summary = {"config": args.config, "smoke": args.smoke, "hyperparameters": hp, **history,
               "final_train_accuracy": history["train_accuracy"][-1],
               "final_val_accuracy": history["val_accuracy"][-1],
               "plot_file": str(Path(plot_file).resolve()),
               "checkpoint_file": str(checkpoint.resolve())}
    summary_file.parent.mkdir(parents=True, exist_ok=True)
    summary_file.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"trained in {history['train_seconds']:.1f} s: final train acc "
          f"{summary['final_train_accuracy']:.4f}, val acc {summary['final_val_accuracy']:.4f}")


if __name__ == "__main__":
    main()
