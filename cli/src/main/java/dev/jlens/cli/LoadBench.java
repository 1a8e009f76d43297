package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.HeldTypes;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import dev.jlens.models.loading.ModelLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code jlens bench load}: loads a model for forward use (no gradients, no optimizer state), runs
 * one forward of {@code --forward-tokens} random tokens, and reports the process's peak resident
 * memory against the bytes of the weights the loaded model holds, each in its type (after
 * processing: TransformerLens's processing gives a tied unembedding its own W_U), and against the
 * checkpoint's weight bytes as stored.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = "Loads a model for forward use, runs one forward, and reports peak resident memory (VmHWM) as a multiple of the bytes "
                + "of the weights it holds and of the checkpoint's.")
final class LoadBench implements Callable<Integer> {
    @Mixin ModelOption modelOption;

    @Option(names = "--forward-tokens", paramLabel = "N", defaultValue = "16",
            description = "tokens of the forward run after loading; 0 for none (default ${DEFAULT-VALUE})")
    int forwardTokens;

    @Override
    public Integer call() {
        NumberFlag.require(forwardTokens >= 0, "--forward-tokens", forwardTokens, "0 or more");
        long start = System.nanoTime();
        LoadedModel loaded = modelOption.load();
        double seconds = (System.nanoTime() - start) / 1e9;
        long loadPeak = statusKilobytes("VmHWM") * 1024;
        HookedTransformer model = loaded.model();
        if (forwardTokens > model.cfg().nCtx()) {
            throw new JlensException("--forward-tokens " + forwardTokens + " is longer than the model's context of " + model.cfg().nCtx() + " tokens.");
        }
        double forwardSeconds = 0;
        if (forwardTokens > 0) {
            int[] ids = new java.util.SplittableRandom(0).ints(forwardTokens, 0, model.cfg().dVocab()).toArray();
            long t0 = System.nanoTime();
            model.forward(Tokens.of(ids));
            forwardSeconds = (System.nanoTime() - t0) / 1e9;
        }
        long peak = statusKilobytes("VmHWM") * 1024;
        long held = model.heldParameterBytes(), checkpoint = storedWeightBytes(modelOption.directory());
        System.out.printf("loaded %s (--process %s, weights %s) in %.2f s: peak resident %.0f MB after loading; weights held %.0f MB, checkpoint %.0f MB%n",
                modelOption.name(), modelOption.process == null ? "default" : modelOption.process, HeldTypes.of(model), seconds, loadPeak / 1e6,
                held / 1e6, checkpoint / 1e6);
        if (forwardTokens > 0) System.out.printf("forward of %d tokens in %.2f s: peak resident %.0f MB%n", forwardTokens, forwardSeconds, peak / 1e6);
        System.out.printf("peak resident / weights held %.2f x; peak resident / checkpoint %.2f x%n", (double) peak / held, (double) peak / checkpoint);
        System.out.printf("RESULT load_peak_rss %.2f x%n", (double) peak / checkpoint);
        return 0;
    }

    /** The bytes of every floating-point tensor of the checkpoint, as stored. */
    private static long storedWeightBytes(Path dir) {
        long bytes = 0;
        try (Checkpoint file = ModelLoader.openWeights(dir)) {
            for (String name : file.names()) {
                if (file instanceof SafetensorsFile st) {
                    if (st.info(name).dtype().readableAsFloat()) bytes += st.info(name).end() - st.info(name).begin();
                } else {
                    bytes += (long) file.storedType(name).bytes() * file.read(name).size();
                }
            }
        }
        return bytes;
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
