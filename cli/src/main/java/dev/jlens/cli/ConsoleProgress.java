package dev.jlens.cli;

import dev.jlens.analysis.Progress;
import me.tongfei.progressbar.ProgressBar;

/** Progress as a bar on stderr (stdout stays the tables). */
final class ConsoleProgress implements Progress {
    static final ConsoleProgress INSTANCE = new ConsoleProgress();

    private ConsoleProgress() {}

    @Override
    public Task start(String name, long total) {
        ProgressBar bar = Bars.bar(name, total);
        return new Task() {
            @Override
            public void step(long steps) {
                bar.stepBy(steps);
            }

            @Override
            public void message(String text) {
                bar.setExtraMessage(text);
            }

            @Override
            public void close() {
                bar.close();
            }
        };
    }
}
