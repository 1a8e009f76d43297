package dev.jlens.analysis.sae;

import dev.jlens.engine.Backend;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A sparse autoencoder in SAELens's parametrisation, over rows of {@code d_in} values:
 * <pre>
 *   c     = x − b_dec                      (when apply_b_dec_to_input)
 *   pre   = c·W_enc + b_enc                (gated: c·(W_enc ⊙ exp r_mag) + b_mag)
 *   acts  = f(pre)                         (the architecture's activation)
 *   recon = acts·W_dec + b_dec
 * </pre>
 * W_enc [d_in, d_sae], W_dec [d_sae, d_in]. Each step's backward sits beside it; they accumulate
 * parameter gradients where the parameter requires one. Every activation is 0 where its
 * derivative is 0 and passes its pre-activation through elsewhere, so the backward of f is the
 * mask acts &gt; 0 for every architecture.
 */
public final class Sae {
    private final SaeConfig cfg;
    private final Parameter wEnc, wDec, bEnc, bDec;
    /** JumpReLU's per-feature threshold, else null. */
    private final Parameter threshold;
    /** The gated architecture's gate bias, magnitude scale (log) and magnitude bias, else null. */
    private final Parameter bGate, rMag, bMag;

    private Sae(SaeConfig cfg, Map<String, Tensor> state, Object source) {
        this.cfg = cfg;
        int in = cfg.dIn(), features = cfg.dSae();
        wEnc = take(state, "W_enc", source, in, features);
        wDec = take(state, "W_dec", source, features, in);
        bDec = take(state, "b_dec", source, in);
        boolean gated = cfg.architecture() == SaeArchitecture.GATED;
        bEnc = gated ? null : take(state, "b_enc", source, features);
        threshold = cfg.architecture() == SaeArchitecture.JUMPRELU ? take(state, "threshold", source, features) : null;
        bGate = gated ? take(state, "b_gate", source, features) : null;
        rMag = gated ? take(state, "r_mag", source, features) : null;
        bMag = gated ? take(state, "b_mag", source, features) : null;
    }

    /**
     * The SAE of {@code cfg} with the weights of {@code state} (SAELens's tensor names); a missing
     * or misshapen tensor is refused in one sentence naming it and {@code source}.
     */
    public static Sae of(SaeConfig cfg, Map<String, Tensor> state, Object source) {
        Map<String, Tensor> named = new LinkedHashMap<>(state);
        // JumpReLU SAEs saved while training keep log(threshold), as SAELens's loader accepts.
        if (cfg.architecture() == SaeArchitecture.JUMPRELU && !named.containsKey("threshold") && named.containsKey("log_threshold")) {
            Tensor log = named.remove("log_threshold");
            float[] t = log.data().clone();
            for (int i = 0; i < t.length; i++) t[i] = (float) Math.exp(t[i]);
            named.put("threshold", Tensor.of(t, log.shape()));
        }
        return new Sae(cfg, named, source);
    }

    /**
     * A fresh SAE for training, as SAELens starts one: decoder rows of random directions scaled to
     * norm 0.1, the encoder their transpose, biases zero.
     */
    public static Sae initialised(SaeConfig cfg, long seed) {
        if (cfg.architecture() == SaeArchitecture.JUMPRELU || cfg.architecture() == SaeArchitecture.GATED) {
            throw new IllegalArgumentException("jlens trains topk and standard (relu) SAEs");
        }
        int in = cfg.dIn(), features = cfg.dSae();
        float[] dec = new float[features * in];
        SplittableRandom random = new SplittableRandom(seed);
        for (int f = 0; f < features; f++) {
            double norm = 0;
            for (int i = 0; i < in; i++) {
                double v = random.nextDouble(-1, 1);
                dec[f * in + i] = (float) v;
                norm += v * v;
            }
            float scale = (float) (0.1 / Math.sqrt(norm));
            for (int i = 0; i < in; i++) dec[f * in + i] *= scale;
        }
        float[] enc = new float[in * features];
        for (int f = 0; f < features; f++) for (int i = 0; i < in; i++) enc[i * features + f] = dec[f * in + i];
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("W_enc", Tensor.of(enc, in, features));
        state.put("W_dec", Tensor.of(dec, features, in));
        state.put("b_enc", Tensor.zeros(features));
        state.put("b_dec", Tensor.zeros(in));
        return new Sae(cfg, state, "a new SAE");
    }

    public SaeConfig cfg() {
        return cfg;
    }

    /** The same SAE (its weights shared) to be spliced at {@code hook}: an npz names none, and a user may move one. */
    public Sae atHook(String hook) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        parameters().forEach((name, p) -> state.put(name, p.value()));
        return new Sae(cfg.withHook(hook), state, "the SAE");
    }

    /** The weights under SAELens's names, in its order. */
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> all = new LinkedHashMap<>();
        for (Parameter p : List.of(wEnc, wDec, bDec)) all.put(p.name(), p);
        for (Parameter p : new Parameter[] {bEnc, threshold, bGate, rMag, bMag}) if (p != null) all.put(p.name(), p);
        return all;
    }

    /** Switches the gradients of every weight on or off (off: backward reaches the input only). */
    public void setRequiresGrad(boolean on) {
        for (Parameter p : parameters().values()) p.setRequiresGrad(on);
    }

    /**
     * Folds SAELens's activation norm scaling factor into the weights, as its {@code
     * fold_activation_norm_scaling_factor}: the SAE, trained on inputs multiplied by {@code
     * factor}, then reads unscaled inputs and reconstructs them unscaled, and its normalisation is
     * "none". The weights are scaled in place and shared with the SAE returned.
     */
    public Sae foldNormScalingFactor(double factor) {
        scale(wEnc.value(), factor);
        scale(wDec.value(), 1 / factor);
        scale(bDec.value(), 1 / factor);
        Map<String, Tensor> state = new LinkedHashMap<>();
        parameters().forEach((name, p) -> state.put(name, p.value()));
        return new Sae(cfg.withNormalization(SaeConfig.Normalization.NONE), state, "the folded SAE");
    }

    private static void scale(Tensor t, double factor) {
        float[] v = t.data();
        for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] * factor);
    }

    // ---- forward steps, each with its backward ----

    /** c = x − b_dec when the SAE subtracts b_dec from its input; else a copy of x. x [n, d_in]. */
    Tensor centered(Tensor x) {
        Tensor c = x.copy();
        if (cfg.applyBDecToInput()) subtractRows(c, bDec.value());
        return c;
    }

    /** dL/dx from dL/dc, accumulating db_dec −= Σ dL/dc. */
    Tensor centeredBackward(Tensor dC) {
        if (cfg.applyBDecToInput() && bDec.requiresGrad()) {
            Tensor sum = Tensor.zeros(cfg.dIn());
            ops().sumRows(Matrix.of(dC, rows(dC, cfg.dIn()), cfg.dIn()), sum);
            float[] s = sum.data(), g = bDec.grad().data();
            for (int i = 0; i < s.length; i++) g[i] -= s[i];
        }
        return dC;
    }

    /** The pre-activations [n, d_sae]: c·W_enc + b_enc, or the gated architecture's magnitude path. */
    Tensor preActivations(Tensor c) {
        int n = rows(c, cfg.dIn());
        Tensor pre = Tensor.zeros(n, cfg.dSae());
        ops().matmul(Matrix.of(c, n, cfg.dIn()), Matrix.of(encoder(), cfg.dIn(), cfg.dSae()), bEnc == null ? bMag.value() : bEnc.value(),
                Matrix.of(pre, n, cfg.dSae()));
        return pre;
    }

    /** dL/dc from dL/dpre, accumulating dW_enc += cᵀ·dL/dpre and db_enc += Σ dL/dpre (the gated encoder's weights are inference-only). */
    Tensor preActivationsBackward(Tensor c, Tensor dPre) {
        int n = rows(dPre, cfg.dSae());
        if (bEnc != null && c != null) {
            if (wEnc.requiresGrad()) ops().matmulAdd(Matrix.of(c, n, cfg.dIn()).t(), Matrix.of(dPre, n, cfg.dSae()), Matrix.of(wEnc.grad(), cfg.dIn(), cfg.dSae()));
            if (bEnc.requiresGrad()) ops().sumRows(Matrix.of(dPre, n, cfg.dSae()), bEnc.grad());
        }
        Tensor dC = Tensor.zeros(n, cfg.dIn());
        ops().matmul(Matrix.of(dPre, n, cfg.dSae()), Matrix.of(encoder(), cfg.dIn(), cfg.dSae()).t(), null, Matrix.of(dC, n, cfg.dIn()));
        return dC;
    }

    /** The gated architecture's gate pre-activations c·W_enc + b_gate; null for the others. */
    Tensor gate(Tensor c) {
        if (bGate == null) return null;
        int n = rows(c, cfg.dIn());
        Tensor gate = Tensor.zeros(n, cfg.dSae());
        ops().matmul(Matrix.of(c, n, cfg.dIn()), Matrix.of(wEnc.value(), cfg.dIn(), cfg.dSae()), bGate.value(), Matrix.of(gate, n, cfg.dSae()));
        return gate;
    }

    /** The feature activations [n, d_sae] from the pre-activations (and, gated, the gate's). */
    Tensor activate(Tensor pre, Tensor gate) {
        int n = rows(pre, cfg.dSae()), features = cfg.dSae();
        float[] p = pre.data(), g = gate == null ? null : gate.data(), th = threshold == null ? null : threshold.value().data();
        float[] acts = new float[p.length];
        // Rows in parallel (a TopK row is a selection over d_sae values); the analysis module reaches no kernel directly.
        java.util.stream.IntStream.range(0, n).parallel().forEach(row -> {
            int at = row * features;
            switch (cfg.architecture()) {
                case STANDARD -> {
                    for (int j = 0; j < features; j++) acts[at + j] = Math.max(p[at + j], 0f);
                }
                case JUMPRELU -> {
                    for (int j = 0; j < features; j++) acts[at + j] = p[at + j] > th[j] ? Math.max(p[at + j], 0f) : 0f;
                }
                case GATED -> {
                    for (int j = 0; j < features; j++) acts[at + j] = g[at + j] > 0 ? Math.max(p[at + j], 0f) : 0f;
                }
                case TOPK -> {
                    for (int j : TopK.largest(p, at, features, cfg.k())) acts[at + j] = Math.max(p[at + j], 0f);
                }
            }
        });
        return Tensor.of(acts, pre.shape());
    }

    /** dL/dpre = dL/dacts where the feature is active, 0 elsewhere. */
    static Tensor activateBackward(Tensor acts, Tensor dActs) {
        float[] a = acts.data(), d = dActs.data(), out = new float[d.length];
        for (int i = 0; i < d.length; i++) out[i] = a[i] > 0 ? d[i] : 0f;
        return Tensor.of(out, dActs.shape());
    }

    /** The reconstruction [n, d_in]: acts·W_dec + b_dec (SAELens's {@code sae.decode}). */
    public Tensor decode(Tensor acts) {
        int n = rows(acts, cfg.dSae());
        Tensor recon = Tensor.zeros(n, cfg.dIn());
        ops().matmul(Matrix.of(acts, n, cfg.dSae()), Matrix.of(wDec.value(), cfg.dSae(), cfg.dIn()), bDec.value(), Matrix.of(recon, n, cfg.dIn()));
        return recon;
    }

    /** dL/dacts from dL/drecon, accumulating dW_dec += actsᵀ·dL/drecon and db_dec += Σ dL/drecon. */
    Tensor decodeBackward(Tensor acts, Tensor dRecon) {
        int n = rows(dRecon, cfg.dIn());
        if (acts != null && wDec.requiresGrad()) ops().matmulAdd(Matrix.of(acts, n, cfg.dSae()).t(), Matrix.of(dRecon, n, cfg.dIn()), Matrix.of(wDec.grad(), cfg.dSae(), cfg.dIn()));
        if (bDec.requiresGrad()) ops().sumRows(Matrix.of(dRecon, n, cfg.dIn()), bDec.grad());
        Tensor dActs = Tensor.zeros(n, cfg.dSae());
        ops().matmul(Matrix.of(dRecon, n, cfg.dIn()), Matrix.of(wDec.value(), cfg.dSae(), cfg.dIn()).t(), null, Matrix.of(dActs, n, cfg.dSae()));
        return dActs;
    }

    /** Feature activations of rows of inputs, no hooks: what {@code sae.encode(x)} gives in SAELens. */
    public Tensor encode(Tensor x) {
        Tensor c = centered(x);
        return activate(preActivations(c), gate(c));
    }

    // ---- helpers ----

    Parameter decoder() {
        return wDec;
    }

    /** The encoder the pre-activations read: W_enc, or the gated magnitude path's W_enc ⊙ exp(r_mag). */
    private Tensor encoder() {
        if (rMag == null) return wEnc.value();
        float[] w = wEnc.value().data(), r = rMag.value().data(), mag = new float[w.length];
        int features = cfg.dSae();
        for (int i = 0; i < w.length; i++) mag[i] = w[i] * (float) Math.exp(r[i % features]);
        return Tensor.of(mag, cfg.dIn(), features);
    }

    private static Backend ops() {
        return Backend.of(dev.jlens.engine.Device.CPU);
    }

    static int rows(Tensor t, int width) {
        return (int) (t.elements() / width);
    }

    private static void subtractRows(Tensor x, Tensor row) {
        float[] v = x.data(), r = row.data();
        for (int i = 0; i < v.length; i++) v[i] -= r[i % r.length];
    }

    private Parameter take(Map<String, Tensor> state, String name, Object source, int... shape) {
        Tensor t = state.get(name);
        if (t == null) throw new JlensException(source + ": has no tensor '" + name + "', which a " + cfg.architecture().saeLensName + " SAE needs.");
        if (!t.hasShape(shape)) {
            throw new JlensException(source + ": tensor '" + name + "' has shape " + t.shapeString() + ", where the cfg.json's d_in and d_sae make it "
                    + java.util.Arrays.toString(shape) + ".");
        }
        return Parameter.of(name, t);
    }

    /** The names a checkpoint of this SAE holds beyond those it needs: SAELens would refuse them too. */
    static List<String> unexpected(SaeConfig cfg, Iterable<String> names) {
        List<String> extra = new ArrayList<>();
        List<String> known = switch (cfg.architecture()) {
            case STANDARD, TOPK -> List.of("W_enc", "W_dec", "b_enc", "b_dec");
            case JUMPRELU -> List.of("W_enc", "W_dec", "b_enc", "b_dec", "threshold", "log_threshold");
            case GATED -> List.of("W_enc", "W_dec", "b_dec", "b_gate", "r_mag", "b_mag");
        };
        for (String n : names) if (!known.contains(n)) extra.add(n);
        return extra;
    }
}
