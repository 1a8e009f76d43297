package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Parameter;
import dev.jlens.kernels.Parallel;
import dev.jlens.models.Config;
import dev.jlens.models.HeldTypes;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.components.KeyValueCache;
import dev.jlens.models.generation.Sampling;
import dev.jlens.models.loading.LoadedModel;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code jlens bench generate}: prefill of a random prompt, then greedy decoding through the KV
 * cache at batch 1, against the memory-bandwidth limit measured in the same run. Decoding one
 * token reads every weight matrix once (the unembedding included, the embedding only a row), so
 * no decoder can beat (read bandwidth) / (those bytes) tokens per second on this machine.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Times prefill and decode (greedy, KV cache, batch 1) and compares decode with the memory-bandwidth limit measured in the same run.")
final class GenerateBench implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Option(names = "--prompt-tokens", defaultValue = "128", paramLabel = "P", description = "random prompt tokens (default ${DEFAULT-VALUE})") int promptTokens;
    @Option(names = "--new-tokens", defaultValue = "32", paramLabel = "N", description = "tokens decoded after the prompt (default ${DEFAULT-VALUE})") int newTokens;
    @Option(names = "--repeats", defaultValue = "3", description = "timed generations; the median is reported (default ${DEFAULT-VALUE})") int repeats;
    @Option(names = "--bandwidth-mb", defaultValue = "512", paramLabel = "MB",
            description = "the array summed to measure read bandwidth, well past the last-level cache (default ${DEFAULT-VALUE})") int bandwidthMb;

    @Override
    public Integer call() {
        NumberFlag.require(promptTokens >= 1, "--prompt-tokens", promptTokens, "at least 1");
        NumberFlag.require(newTokens >= 1, "--new-tokens", newTokens, "at least 1");
        NumberFlag.require(repeats >= 1, "--repeats", repeats, "at least 1");
        NumberFlag.require(bandwidthMb >= 16 && bandwidthMb <= 4096, "--bandwidth-mb", bandwidthMb, "16 to 4096");
        bandwidthFloats = bandwidthMb << 18;
        LoadedModel loaded = modelOption.load();
        HookedTransformer model = loaded.model();
        if (promptTokens + newTokens > model.cfg().nCtx()) {
            throw new JlensException("--prompt-tokens " + promptTokens + " and --new-tokens " + newTokens + " exceed the model's context (n_ctx) of "
                    + model.cfg().nCtx() + " tokens.");
        }
        int[] prompt = new SplittableRandom(1).ints(promptTokens, 0, model.cfg().dVocab()).toArray();
        long bytesPerToken = weightBytesReadPerToken(model);
        run(model, prompt, Math.min(4, newTokens)); // warm-up: the JIT compiles every kernel the timed runs take
        readBandwidth();
        // The machine's bandwidth drifts (other tenants): each decode is compared with a measurement just before it.
        double[] prefillRate = new double[repeats], decodeRate = new double[repeats], bandwidth = new double[repeats], ofLimit = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            bandwidth[r] = readBandwidth();
            double[] t = run(model, prompt, newTokens);
            prefillRate[r] = promptTokens / t[0];
            decodeRate[r] = (newTokens - 1) / t[1];
            ofLimit[r] = decodeRate[r] / (bandwidth[r] / bytesPerToken);
        }
        double decode = median(decodeRate), limit = median(bandwidth) / bytesPerToken;
        System.out.printf("model %s, weights %s: %.1f MB of weights read per decoded token%n", modelOption.name(), HeldTypes.of(model), bytesPerToken / 1e6);
        System.out.printf("read bandwidth (%d threads, summing a %d MB array, best of 5 before each run): median %.1f GB/s (%.1f to %.1f) -> decode limit %.2f tokens/s%n",
                Parallel.threads(), bandwidthMb, median(bandwidth) / 1e9, min(bandwidth) / 1e9, max(bandwidth) / 1e9, limit);
        System.out.printf("prefill of %d tokens: %.1f tokens/s (median of %d)%n", promptTokens, median(prefillRate), repeats);
        System.out.printf("decode of %d tokens after them: %.2f tokens/s (median of %d), %.2f x the limit measured before each run (median; %.2f to %.2f)%n",
                newTokens, decode, repeats, median(ofLimit), min(ofLimit), max(ofLimit));
        System.out.printf("RESULT generate %.2f tokens/s%n", decode);
        return 0;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double min(double[] values) {
        return java.util.Arrays.stream(values).min().orElse(0);
    }

    private static double max(double[] values) {
        return java.util.Arrays.stream(values).max().orElse(0);
    }

    /**
     * Seconds of the prefill (the prompt through the cache, up to the first new token) and of the
     * decode steps after it (each new token through the cache, greedy).
     */
    private static double[] run(HookedTransformer model, int[] prompt, int newTokens) {
        KeyValueCache cache = model.newKeyValueCache(1, prompt.length + newTokens, null);
        long t0 = System.nanoTime();
        int next = argMax(model.forward(Tokens.of(prompt), cache, false).data());
        long t1 = System.nanoTime();
        for (int i = 1; i < newTokens; i++) next = argMax(model.forward(Tokens.of(next), cache, false).data());
        long t2 = System.nanoTime();
        return new double[] {(t1 - t0) / 1e9, (t2 - t1) / 1e9};
    }

    private static int argMax(float[] logits) {
        return Sampling.argMax(logits, 0, logits.length);
    }

    /**
     * The bytes of every weight the model holds, less the embedding tables a token reads one row of
     * (a tied unembedding reads W_E whole, as a W_U still derived from the stored embedding reads it).
     */
    static long weightBytesReadPerToken(HookedTransformer model) {
        long bytes = model.heldParameterBytes();
        boolean embeddingOfItsOwn = model.parameter("embed.W_E").value().derivation() == null;
        if (!model.unembed.tied() && embeddingOfItsOwn) bytes -= bytes(model.parameter("embed.W_E"));
        if (model.cfg().positions() != Config.PositionalEmbedding.ROTARY) bytes -= bytes(model.parameter("pos_embed.W_pos"));
        return bytes;
    }

    private static long bytes(Parameter p) {
        return p.value().dtype().bytes() * p.value().elements();
    }

    /** Floats of the array summed; a multiple of four vectors per thread. */
    private int bandwidthFloats;
    private float[] bandwidthArray;

    /**
     * Bytes per second that summing the --bandwidth-mb array (far past every cache) reads, on as many threads
     * as the kernels use, four independent sums per thread so that the adds never wait on each
     * other; best of five.
     */
    private double readBandwidth() {
        if (bandwidthArray == null) {
            bandwidthArray = new float[bandwidthFloats];
            java.util.Arrays.fill(bandwidthArray, 1f);
        }
        float[] data = bandwidthArray;
        int threads = Parallel.threads(), chunk = bandwidthFloats / threads / (4 * S.length()) * (4 * S.length());
        double best = 0;
        float[] sums = new float[threads];
        for (int r = 0; r < 5; r++) {
            long t0 = System.nanoTime();
            Parallel.forEach(threads, t -> sums[t] = sum(data, t * chunk, chunk));
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (sums[0] != chunk) throw new IllegalStateException("the bandwidth sum is wrong");
            best = Math.max(best, (double) chunk * threads * 4 / seconds);
        }
        return best;
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** x[off .. off + n) summed in four independent vector sums (n a multiple of four vectors). */
    private static float sum(float[] x, int off, int n) {
        int lanes = S.length();
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (int i = off; i < off + n; i += 4 * lanes) {
            s0 = s0.add(FloatVector.fromArray(S, x, i));
            s1 = s1.add(FloatVector.fromArray(S, x, i + lanes));
            s2 = s2.add(FloatVector.fromArray(S, x, i + 2 * lanes));
            s3 = s3.add(FloatVector.fromArray(S, x, i + 3 * lanes));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }
}
