package dev.jlens.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress bars for long loops, on stderr so that stdout stays the tables. */
final class Bars {
    private Bars() {}

    static ProgressBar bar(String task, long total) {
        return builder(task, total).build();
    }

    /** A bar counting bytes, shown in MB. */
    static ProgressBar bytes(String task, long total) {
        return builder(task, total).setUnit(" MB", 1 << 20).showSpeed().build();
    }

    private static ProgressBarBuilder builder(String task, long total) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(500);
    }
}
