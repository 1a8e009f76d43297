package dev.jlens.cli;

import dev.jlens.models.hub.ModelLocator;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code jlens download NAME}: fetches a model into the Hugging Face cache ahead of time. */
@Command(name = "download", mixinStandardHelpOptions = true,
        description = "Fetches a model (a TransformerLens name such as gpt2-small or pythia-70m-v0, or a Hugging Face repository id) "
                + "into the Hugging Face cache (HF_HUB_CACHE, HF_HOME; HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE are honoured).")
final class DownloadCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "the model") String name;

    @Override
    public Integer call() {
        Path dir;
        try (DownloadProgress progress = new DownloadProgress()) {
            dir = ModelLocator.locate(name, progress);
        }
        System.out.println(dir);
        return 0;
    }
}
