package dev.jlens.cli;

import dev.jlens.models.hub.HubDownloader;
import me.tongfei.progressbar.ProgressBar;

/** A progress bar per downloaded file. */
final class DownloadProgress implements HubDownloader.Listener, AutoCloseable {
    private ProgressBar bar;

    @Override
    public void file(String name, long size) {
        close();
        bar = Bars.bytes(name, Math.max(size, 0));
    }

    @Override
    public void progress(long bytes) {
        if (bar != null) bar.stepTo(bytes);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
        bar = null;
    }
}
