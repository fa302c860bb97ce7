"""What the five two-layer-network programs share: their command line and the loss plot."""

import argparse
import sys

MATPLOTLIB_MISSING = "matplotlib is not installed; to draw the loss curve:\n    pip install matplotlib"


def parse_args(description, default_plot):
    """The command line. The loss curve goes to ``--plot FILE`` (``default_plot`` when not
    given); without matplotlib an explicit ``--plot`` is an error that says what to
    install, and the default plot is skipped with a note saying the same."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--iterations", type=int, default=500, help="training iterations (default 500)")
    parser.add_argument("--device", default="cpu", help="plugrad device (cpu, opencl, ...)")
    parser.add_argument("--print-every", type=int, default=50, help="print the loss every N iterations")
    parser.add_argument("--plot", help=f"where to save the loss curve (PNG; default {default_plot}); needs matplotlib")
    parser.add_argument("--no-plot", action="store_true", help="do not save the loss curve")
    args = parser.parse_args()
    if args.no_plot:
        args.plot = None
    elif not _matplotlib_available():
        if args.plot is not None:
            parser.error(f"--plot {args.plot}: {MATPLOTLIB_MISSING}\n(or leave --plot out)")
        print(f"note: the loss curve is not saved: {MATPLOTLIB_MISSING}\n(--no-plot hides this note)",
              file=sys.stderr)
    else:
        args.plot = args.plot or default_plot
    return args


def _matplotlib_available() -> bool:
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")   # files only: no window, no display needed
    return True


def report(t, loss, args):
    """Print the loss of iteration ``t`` (every ``--print-every`` and the last one)."""
    if t % args.print_every == 0 or t == args.iterations - 1:
        print(f"Epoch:{t}   Loss:{loss}")


def save_plot(losses, args):
    """Save the loss curve as a PNG to ``args.plot`` (None: no plot, see ``parse_args``)."""
    if args.plot is None:
        return
    import matplotlib.pyplot as plt
    plt.plot(losses)
    plt.xlabel("epoch")
    plt.ylabel("Loss")
    plt.yscale("log")
    plt.savefig(args.plot)
    plt.close()
    print(f"loss curve saved to {args.plot}")
