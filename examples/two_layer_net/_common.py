"""What the five two-layer-network programs share: their command line and the loss plot."""

import argparse


def parse_args(description, default_plot):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--iterations", type=int, default=500, help="training iterations (default 500)")
    parser.add_argument("--device", default="cpu", help="plugrad device (cpu, opencl, ...)")
    parser.add_argument("--print-every", type=int, default=50, help="print the loss every N iterations")
    parser.add_argument("--plot", default=default_plot, help="where to save the loss curve (PNG)")
    parser.add_argument("--no-plot", action="store_true", help="do not save the loss curve")
    return parser.parse_args()


def report(t, loss, args):
    """Print the loss of iteration ``t`` (every ``--print-every`` and the last one)."""
    if t % args.print_every == 0 or t == args.iterations - 1:
        print(f"Epoch:{t}   Loss:{loss}")


def save_plot(losses, args):
    """Save the loss curve as a PNG when matplotlib is installed; skip silently otherwise."""
    if args.no_plot:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    plt.plot(losses)
    plt.xlabel("epoch")
    plt.ylabel("Loss")
    plt.yscale("log")
    plt.savefig(args.plot)
    plt.close()
    print(f"loss curve saved to {args.plot}")
