package dev.jlens.models.components;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.kernels.Rotary;
import dev.jlens.testkit.FiniteDifferences;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each component's backward (input gradient and every parameter gradient) against central finite
 * differences of L = Σ r ⊙ forward(x) for a fixed random r, with L summed in double.
 */
class ComponentGradientTest {
    private static final int B = 2, T = 5, D = 12, H = 3, DH = 4, M = 20;
    private final Random rng = new Random(1);

    @Test
    void layerNorm() {
        HookPoints hooks = new HookPoints();
        LayerNorm ln = new LayerNorm(hooks, "ln", param("w", D), param("b", D), D, 1e-5f);
        check(x -> ln.forward(x, true), ln::backward, List.of(ln.w, ln.b), B, T, D);
    }

    @Test
    void layerNormThroughTheScaleHookTakesTheDecomposedPathToTheSameGradient() {
        HookPoints hooks = new HookPoints();
        LayerNorm ln = new LayerNorm(hooks, "ln", param("w", D), param("b", D), D, 1e-5f);
        try (HookScope scope = hooks.scope()) {
            scope.backward("ln.hook_scale", (g, p) -> null); // forces the path that exposes dL/dscale
            check(x -> ln.forward(x, true), ln::backward, List.of(ln.w, ln.b), B, T, D);
        }
    }

    @Test
    void layerNormWithoutAffine() {
        LayerNorm ln = new LayerNorm(new HookPoints(), "ln", null, null, D, 1e-5f);
        check(x -> ln.forward(x, true), ln::backward, List.of(), B, T, D);
    }

    @Test
    void rmsNorm() {
        RmsNorm norm = new RmsNorm(new HookPoints(), "ln", param("w", D), D, 1e-5f);
        check(x -> norm.forward(x, true), norm::backward, List.of(norm.w), B, T, D);
    }

    @Test
    void rmsNormThroughItsHooksTakesTheSamePath() {
        HookPoints hooks = new HookPoints();
        RmsNorm norm = new RmsNorm(hooks, "ln", param("w", D), D, 1e-5f);
        try (HookScope scope = hooks.scope()) {
            scope.backward("ln.hook_scale", (g, p) -> g.copy());
            scope.backward("ln.hook_normalized", (g, p) -> g.copy());
            check(x -> norm.forward(x, true), norm::backward, List.of(norm.w), B, T, D);
        }
    }

    @Test
    void rmsNormWithoutItsWeight() {
        RmsNorm norm = new RmsNorm(new HookPoints(), "ln", null, D, 1e-5f);
        check(x -> norm.forward(x, true), norm::backward, List.of(), B, T, D);
    }

    @ParameterizedTest
    @EnumSource(AttentionKind.class)
    void attention(AttentionKind kind) {
        int g = kind.grouped ? 1 : H;
        Rotary.Table rotary = switch (kind) {
            case ROTARY -> Rotary.Table.of(2, T, 10000);
            case GROUPED_ROTARY_SCALED -> Rotary.Table.of(DH, T, 500000, new Rotary.Llama3Scaling(8, 1, 4, 2));
            case QK_NORM -> Rotary.Table.of(DH, T, 1000000);
            case GEMMA2_CAPPED_WINDOW -> Rotary.Table.of(DH, T, 10000);
            case LINEAR_SCALED_WINDOW -> Rotary.Table.of(DH, T, 10000, new Rotary.LinearScaling(4));
            default -> null;
        };
        Attention attn = new Attention(new HookPoints(), "attn",
                new Parameter[] {param("W_Q", H, D, DH), param("W_K", g, D, DH), param("W_V", g, D, DH)},
                new Parameter[] {param("b_Q", H, DH), param("b_K", g, DH), param("b_V", g, DH)},
                param("W_O", H, DH, D), param("b_O", D), rotary,
                kind == AttentionKind.QK_NORM ? new Attention.QkNorm(param("q_norm.w", DH), param("k_norm.w", DH), 1e-6f) : null,
                switch (kind) {
                    case LINEAR_SCALED_WINDOW -> new Attention.Scoring(Math.sqrt(DH), 0, 2);
                    // Gemma 2: scores over √(another scalar), capped low enough that the cap bends them, in a window
                    case GEMMA2_CAPPED_WINDOW -> new Attention.Scoring(Math.sqrt(7), 0.5f, 2);
                    default -> Attention.Scoring.standard(DH);
                }, kind == AttentionKind.RESULT, new FusedQkvBuffer());
        List<Parameter> checked = new java.util.ArrayList<>(List.of(attn.W_Q, attn.W_K, attn.W_V, attn.b_Q, attn.b_V, attn.W_O, attn.b_O));
        if (attn.qNorm != null) checked.addAll(List.of(attn.qNorm.w, attn.kNorm.w));
        check(x -> attn.forward(x, true), attn::backward, checked, B, T, D);
    }

    enum AttentionKind {
        NONE(false), ROTARY(false), RESULT(false), GROUPED(true), GROUPED_ROTARY_SCALED(true),
        /** Qwen3: per-head RMS of q and k before rotary. */
        QK_NORM(true),
        /** Mistral's sliding window (2 positions, shorter than the sequence), with linearly scaled rotary. */
        LINEAR_SCALED_WINDOW(false),
        /** Gemma 2's soft-capped scores over √query_pre_attn_scalar, with a window, grouped. */
        GEMMA2_CAPPED_WINDOW(true);

        final boolean grouped;

        AttentionKind(boolean grouped) {
            this.grouped = grouped;
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"SILU", "GELU", "GELU_NEW"})
    void gatedMlp(Activation act) {
        GatedMlp mlp = new GatedMlp(new HookPoints(), "mlp", param("W_gate", D, M), param("W_in", D, M), param("b_in", M),
                param("W_out", M, D), param("b_out", D), NeuronActivation.of(act, null, "mlp", null, M, 1e-5f));
        check(x -> mlp.forward(x, true), mlp::backward, List.of(mlp.W_gate, mlp.W_in, mlp.b_in, mlp.W_out, mlp.b_out), B, T, D);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void mlp(Activation act) {
        HookPoints hooks = new HookPoints();
        LayerNorm.Weights soluNorm = new LayerNorm.Weights(param("ln.w", M), param("ln.b", M));
        PlainMlp mlp = new PlainMlp(hooks, "mlp", param("W_in", D, M), param("b_in", M), param("W_out", M, D), param("b_out", D),
                () -> NeuronActivation.of(act, hooks, "mlp", soluNorm, M, 1e-5f));
        List<Parameter> params = act == Activation.SOLU_LN ? List.of(mlp.W_in, mlp.b_in, mlp.W_out, mlp.b_out, soluNorm.w(), soluNorm.b())
                : List.of(mlp.W_in, mlp.b_in, mlp.W_out, mlp.b_out);
        check(x -> mlp.forward(x, true), mlp::backward, params, B, T, D);
    }

    /** Gemma 2's logits, soft-capped at 0.5 so that the cap bends them. */
    @Test
    void unembedSoftCapped() {
        Unembed unembed = Unembed.of(param("W_U", D, 9), param("b_U", 9)).softCapped(0.5f);
        check(x -> unembed.forward(x, true), unembed::backward, List.of(unembed.W_U(), unembed.b_U), B, T, D);
    }

    @Test
    void unembed() {
        Unembed unembed = Unembed.of(param("W_U", D, 9), param("b_U", 9));
        check(x -> unembed.forward(x, true), unembed::backward, List.of(unembed.W_U(), unembed.b_U), B, T, D);
    }

    private Parameter param(String name, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) t.data()[i] = (float) (rng.nextGaussian() * 0.5);
        if (name.endsWith("w")) for (int i = 0; i < t.size(); i++) t.data()[i] += 1f;
        return Parameter.of(name, t);
    }

    private void check(Function<Tensor, Tensor> forward, Function<Tensor, Tensor> backward, List<Parameter> params,
                       int... inputShape) {
        Tensor x = Tensor.zeros(inputShape);
        for (int i = 0; i < x.size(); i++) x.data()[i] = (float) rng.nextGaussian();
        Tensor out = forward.apply(x);
        Tensor r = Tensor.zeros(out.shape());
        for (int i = 0; i < r.size(); i++) r.data()[i] = (float) rng.nextGaussian();
        Tensor dx = backward.apply(r);
        java.util.function.DoubleSupplier loss = () -> {
            float[] y = forward.apply(x).data();
            double sum = 0;
            for (int i = 0; i < y.length; i++) sum += (double) y[i] * r.data()[i];
            return sum;
        };
        FiniteDifferences.check("dx", x.data(), dx.data(), FiniteDifferences.all(x.size()), 4e-2f, loss, 3e-3, 2e-4);
        for (Parameter p : params) {
            FiniteDifferences.check(p.name(), p.value().data(), p.grad().data(), FiniteDifferences.all(p.value().size()), 4e-2f,
                    loss, 3e-3, 2e-4);
        }
    }
}
