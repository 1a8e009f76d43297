package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.loading.LoadedModel;
import dev.jlens.models.loading.ModelLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code jlens bench load}: loads a model for forward use (no gradients, no optimizer state) and
 * reports the process's peak resident memory against the float32 bytes of the weights the loaded
 * model holds (after processing: TransformerLens's processing gives a tied unembedding its own W_U),
 * and against the checkpoint's.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = "Loads a model for forward use and reports peak resident memory (VmHWM) as a multiple of the float32 bytes of the weights it holds.")
final class LoadBench implements Callable<Integer> {
    @Mixin ModelOption modelOption;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        LoadedModel loaded = modelOption.load();
        double seconds = (System.nanoTime() - start) / 1e9;
        long peak = statusKilobytes("VmHWM") * 1024;
        long held = 4 * loaded.model().heldParameterElements(), checkpoint = float32WeightBytes(modelOption.directory());
        System.out.printf("loaded %s (--process %s) in %.2f s: peak resident %.0f MB; weights held %.0f MB (%.2f x), checkpoint %.0f MB (%.2f x)%n",
                modelOption.name(), modelOption.process == null ? "default" : modelOption.process, seconds, peak / 1e6, held / 1e6, (double) peak / held, checkpoint / 1e6,
                (double) peak / checkpoint);
        System.out.printf("RESULT load_peak_rss %.2f x%n", (double) peak / held);
        return 0;
    }

    /** Every floating-point tensor of the checkpoint, counted at 4 bytes an element. */
    private static long float32WeightBytes(Path dir) {
        long elements = 0;
        try (Checkpoint file = ModelLoader.openWeights(dir)) {
            for (String name : file.names()) {
                if (file instanceof SafetensorsFile st) {
                    if (st.info(name).dtype().readableAsFloat()) elements += st.info(name).elements();
                } else {
                    elements += file.read(name).size();
                }
            }
        }
        return 4 * elements;
    }

    private static long statusKilobytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            throw new JlensException("cannot read /proc/self/status to measure memory (" + JlensException.describe(e) + ").", e);
        }
        throw new JlensException("this system reports no " + field + " in /proc/self/status; bench load needs Linux.");
    }
}
