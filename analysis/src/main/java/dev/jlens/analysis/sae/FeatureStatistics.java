package dev.jlens.analysis.sae;

import dev.jlens.analysis.Progress;
import dev.jlens.engine.Backend;
import dev.jlens.engine.Device;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * What a feature dashboard shows, over a corpus of contexts: per feature, how often it fires, the
 * histogram of its non-zero activations, its top activating positions with the activations of
 * the tokens around them, and the tokens its decoder direction promotes and suppresses through
 * W_U (the direct logit effect, as SAELens's and Neuronpedia's dashboards show it).
 */
public final class FeatureStatistics {
    /** One of a feature's strongest activations: where it is, and the feature's activation at each token of the context. */
    public record Example(int context, int position, float value, float[] contextActivations) {}

    /** A token and its weight (a logit effect). */
    public record TokenWeight(int token, float weight) {}

    /** One feature's dashboard data; the histogram's {@link #BINS} bins split (0, max]. */
    public record Feature(int index, long fires, double density, float max, int[] histogram, List<Example> examples,
                          List<TokenWeight> promoted, List<TokenWeight> suppressed) {}

    public static final int BINS = 20;

    private final int[][] contexts;
    private final long positions;
    private final Feature[] features;

    private FeatureStatistics(int[][] contexts, long positions, Feature[] features) {
        this.contexts = contexts;
        this.positions = positions;
        this.features = features;
    }

    public int[][] contexts() {
        return contexts;
    }

    public long positions() {
        return positions;
    }

    public Feature feature(int f) {
        return features[f];
    }

    public int features() {
        return features.length;
    }

    /** Features that fired nowhere in the corpus. */
    public List<Integer> dead() {
        List<Integer> dead = new ArrayList<>();
        for (Feature f : features) if (f.fires() == 0) dead.add(f.index());
        return dead;
    }

    /**
     * Runs the model over {@code contexts} (same length each), encodes the hook's activations with
     * the SAE, and keeps, per feature, its {@code examples} strongest positions and the
     * {@code logitTokens} tokens its direction most promotes and suppresses.
     */
    public static FeatureStatistics of(HookedTransformer model, Sae sae, int[][] contexts, int examples, int logitTokens, Progress progress) {
        int features = sae.cfg().dSae(), length = contexts[0].length;
        long[] fires = new long[features];
        float[] max = new float[features];
        List<PriorityQueue<long[]>> best = new ArrayList<>(features);
        // Heap entries: {float bits of the value, context, position}, the weakest on top.
        for (int f = 0; f < features; f++) best.add(new PriorityQueue<>((a, b) -> Float.compare(Float.intBitsToFloat((int) a[0]), Float.intBitsToFloat((int) b[0]))));
        // Every non-zero activation, sparse (feature, value), for the histograms once each feature's maximum is known.
        int[] firedFeature = new int[1 << 16];
        float[] firedValue = new float[1 << 16];
        int fired = 0;
        int chunk = 8;
        try (Progress.Task task = progress.start("encoding the corpus", contexts.length)) {
            for (int c0 = 0; c0 < contexts.length; c0 += chunk) {
                int[][] batch = Arrays.copyOfRange(contexts, c0, Math.min(contexts.length, c0 + chunk));
                float[] acts = encode(model, sae, batch);
                for (int b = 0; b < batch.length; b++) {
                    for (int p = 0; p < length; p++) {
                        int at = (b * length + p) * features;
                        for (int f = 0; f < features; f++) {
                            float v = acts[at + f];
                            if (v <= 0) continue;
                            fires[f]++;
                            max[f] = Math.max(max[f], v);
                            if (fired == firedFeature.length) {
                                firedFeature = Arrays.copyOf(firedFeature, 2 * fired);
                                firedValue = Arrays.copyOf(firedValue, 2 * fired);
                            }
                            firedFeature[fired] = f;
                            firedValue[fired++] = v;
                            PriorityQueue<long[]> heap = best.get(f);
                            if (heap.size() < examples) heap.add(new long[] {Float.floatToIntBits(v), c0 + b, p});
                            else if (v > Float.intBitsToFloat((int) heap.peek()[0])) {
                                heap.poll();
                                heap.add(new long[] {Float.floatToIntBits(v), c0 + b, p});
                            }
                        }
                    }
                }
                task.step(batch.length);
            }
        }
        int[][] histograms = new int[features][BINS];
        for (int i = 0; i < fired; i++) {
            int f = firedFeature[i];
            histograms[f][Math.min(BINS - 1, (int) (firedValue[i] / max[f] * BINS))]++;
        }
        long positions = (long) contexts.length * length;
        TokenWeight[][][] logits = logitWeights(model, sae, logitTokens);
        Feature[] out = new Feature[features];
        for (int f = 0; f < features; f++) {
            List<long[]> top = new ArrayList<>(best.get(f));
            top.sort((a, b) -> Float.compare(Float.intBitsToFloat((int) b[0]), Float.intBitsToFloat((int) a[0])));
            List<Example> ex = new ArrayList<>();
            for (long[] e : top) ex.add(new Example((int) e[1], (int) e[2], Float.intBitsToFloat((int) e[0]), null));
            out[f] = new Feature(f, fires[f], (double) fires[f] / positions, max[f], histograms[f], ex,
                    List.of(logits[f][0]), List.of(logits[f][1]));
        }
        return withContextActivations(model, sae, contexts, positions, out);
    }

    /** Each example's context encoded again, keeping its feature's activation at every token. */
    private static FeatureStatistics withContextActivations(HookedTransformer model, Sae sae, int[][] contexts, long positions, Feature[] features) {
        java.util.Map<Integer, List<int[]>> wanted = new java.util.TreeMap<>(); // context -> {feature, example index}
        for (Feature f : features) for (int i = 0; i < f.examples().size(); i++) {
            wanted.computeIfAbsent(f.examples().get(i).context(), c -> new ArrayList<>()).add(new int[] {f.index(), i});
        }
        int d = sae.cfg().dSae(), length = contexts[0].length;
        List<List<Example>> examples = new ArrayList<>();
        for (Feature f : features) examples.add(new ArrayList<>(f.examples()));
        List<Integer> order = new ArrayList<>(wanted.keySet());
        for (int i0 = 0; i0 < order.size(); i0 += 8) {
            List<Integer> ids = order.subList(i0, Math.min(order.size(), i0 + 8));
            int[][] batch = new int[ids.size()][];
            for (int i = 0; i < batch.length; i++) batch[i] = contexts[ids.get(i)];
            float[] acts = encode(model, sae, batch);
            for (int i = 0; i < batch.length; i++) {
                for (int[] fe : wanted.get(ids.get(i))) {
                    float[] values = new float[length];
                    for (int p = 0; p < length; p++) values[p] = acts[(i * length + p) * d + fe[0]];
                    Example e = examples.get(fe[0]).get(fe[1]);
                    examples.get(fe[0]).set(fe[1], new Example(e.context(), e.position(), e.value(), values));
                }
            }
        }
        Feature[] out = new Feature[features.length];
        for (int f = 0; f < features.length; f++) {
            Feature x = features[f];
            out[f] = new Feature(x.index(), x.fires(), x.density(), x.max(), x.histogram(), List.copyOf(examples.get(f)), x.promoted(), x.suppressed());
        }
        return new FeatureStatistics(contexts, positions, out);
    }

    /** The SAE's feature activations over a batch of contexts, [batch·pos·d_sae]. */
    private static float[] encode(HookedTransformer model, Sae sae, int[][] batch) {
        float[][] captured = new float[1][];
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(sae.cfg().hookName(), (x, point) -> {
                captured[0] = x.data().clone();
                return null;
            });
            model.forward(Tokens.padded(0, batch));
        }
        int in = sae.cfg().dIn();
        return sae.encode(Tensor.of(captured[0], captured[0].length / in, in)).data();
    }

    /** Per feature, {promoted, suppressed}: the largest and smallest entries of W_dec[f]·W_U. */
    private static TokenWeight[][][] logitWeights(HookedTransformer model, Sae sae, int count) {
        Tensor wU = model.parameter("unembed.W_U").value();
        int features = sae.cfg().dSae(), in = sae.cfg().dIn(), vocab = wU.dim(1);
        TokenWeight[][][] out = new TokenWeight[features][2][];
        if (wU.dim(0) != in) {
            for (TokenWeight[][] f : out) f[0] = f[1] = new TokenWeight[0]; // the SAE does not read the residual stream
            return out;
        }
        float[] wDec = sae.decoder().value().data();
        Backend ops = Backend.of(Device.CPU);
        int block = Math.max(1, (1 << 22) / vocab);
        for (int f0 = 0; f0 < features; f0 += block) {
            int rows = Math.min(block, features - f0);
            Tensor dec = Tensor.of(Arrays.copyOfRange(wDec, f0 * in, (f0 + rows) * in), rows, in), logits = Tensor.zeros(rows, vocab);
            ops.matmul(Matrix.of(dec, rows, in), Matrix.of(wU, in, vocab), null, Matrix.of(logits, rows, vocab));
            float[] l = logits.data();
            for (int r = 0; r < rows; r++) {
                out[f0 + r][0] = extreme(l, r * vocab, vocab, count, true);
                out[f0 + r][1] = extreme(l, r * vocab, vocab, count, false);
            }
        }
        return out;
    }

    private static TokenWeight[] extreme(float[] v, int at, int n, int count, boolean largest) {
        float[] signed = new float[n];
        for (int j = 0; j < n; j++) signed[j] = largest ? v[at + j] : -v[at + j];
        int[] top = TopK.largest(signed, 0, n, Math.min(count, n));
        TokenWeight[] out = new TokenWeight[top.length];
        for (int i = 0; i < top.length; i++) out[i] = new TokenWeight(top[i], v[at + top[i]]);
        Arrays.sort(out, (a, b) -> largest ? Float.compare(b.weight(), a.weight()) : Float.compare(a.weight(), b.weight()));
        return out;
    }
}
