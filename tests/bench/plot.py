"""plot.py - draws scripts/bench's results as one PNG: latency, CPU and memory per runtime.

Panels: cold starts (init, first request, their sum; plain HTTP with Titan G1 v1, and HTTPS
with a 3-image Stable Image Core request) and warm latency of the Titan G1 v1 rows, both on a
log scale; the Stability rows whose calls bedrock-local holds 1 s (1 image, 3 images in 3
parallel calls) on a linear scale from 0, so that the 3-image bar standing level with the
1-image bar is the parallelism showing; CPU per invocation and of a cold start; peak RSS.

results.json is what `tests/bench/harness.py --json` writes. Uses Debian's python3-matplotlib
(scripts/bench installs it) with the Agg backend, so no display is needed.
"""
import json
import sys


def plot(results, out_png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results["summary"]
    names = ["C", "Node"]
    labels = {"C": "C bootstrap", "Node": "Node.js 20 + AWS SDK v3"}
    colors = {"C": "#1f77b4", "Node": "#d62728"}
    fig, axes = plt.subplots(1, 5, figsize=(21, 5), gridspec_kw={"width_ratios": [3.4, 2.3, 1.3, 3, 0.9]})

    def bars(ax, metrics, ylabel, title, log=False):
        width = 0.8 / len(names)
        for i, n in enumerate(names):
            xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(metrics))]
            vals = [s[n][key] for key, _ in metrics]
            rects = ax.bar(xs, vals, width, label=labels[n], color=colors[n])
            for r, v in zip(rects, vals):
                ax.annotate(f"{v:.0f}" if v >= 10 else f"{v:.1f}", (r.get_x() + r.get_width() / 2, r.get_height()),
                            ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(metrics)))
        ax.set_xticklabels([m for _, m in metrics], fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        if log:
            ax.set_yscale("log")
        ax.margins(y=0.15)

    bars(axes[0], [("init_ms", "HTTP:\ninit"), ("first_ms", "HTTP:\nfirst req."),
                   ("cold_total_ms", "HTTP:\nsum"), ("tls_init_ms", "HTTPS:\ninit"),
                   ("tls_first_ms", "HTTPS:\nfirst req."), ("tls_total_ms", "HTTPS:\nsum")],
         "milliseconds (log scale)", "cold start: init + first request\n(HTTP: Titan, 1 image; HTTPS: SI Core, 3 images)",
         log=True)
    bars(axes[1], [("warm1_p50", "p50\n1 image"), ("warm1_p99", "p99\n1 image"),
                   ("warm5_p50", "p50\n5 images"), ("warm5_p99", "p99\n5 images")],
         "milliseconds (log scale)", "warm latency, Titan G1 v1", log=True)
    bars(axes[2], [("par1_p50", "p50\n1 image"), ("par3_p50", "p50\n3 images")],
         "milliseconds", "SI Core, each call held 1 s:\n3 images = 3 parallel calls")
    bars(axes[3], [("warm1_cpu_ms", "Titan\n1 image"), ("warm5_cpu_ms", "Titan\n5 images"),
                   ("par1_cpu_ms", "SI Core\n1 image"), ("par3_cpu_ms", "SI Core\n3 images"),
                   ("cold_cpu_ms", "cold HTTP\ninit + first"), ("tls_cpu_ms", "cold HTTPS\ninit + first")],
         "CPU ms (log scale)", "CPU time of the function process\n(per warm invocation; whole cold start)", log=True)
    bars(axes[4], [("rss_mb", "peak RSS")], "MB", f"memory after\n{s['C']['invocations']} invocations")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("imagegen: the same job through the same gateway, bedrock-local and s3rver"
                 + ("\nPython + boto3: " + results["python"] if results.get("python") else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        plot(json.load(f), sys.argv[2])
