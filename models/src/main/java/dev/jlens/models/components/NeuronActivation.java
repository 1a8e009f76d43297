package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.kernels.Gelu;

/**
 * What an MLP does to each neuron's pre-activation, forward and backward: the part of an MLP a
 * config's act_fn picks. Shapes: pre, post [B, T, M].
 */
public sealed interface NeuronActivation permits NeuronActivation.GeluActivation, NeuronActivation.SiluActivation, NeuronActivation.SoluLn {
    /** post (before hook_post) from pre (after hook_pre). */
    Tensor forward(Backend ops, Tensor pre, boolean keep);

    /** dL/dpre from dL/dpost (after hook_post's backward), given the pre-activation forward saw. */
    Tensor backward(Backend ops, Tensor pre, Tensor dPost);

    void release();

    /**
     * The part {@code act} names, for the MLP {@code prefix}; SoLU's layer norm has {@code lnWeights}
     * (unused otherwise).
     */
    static NeuronActivation of(Activation act, HookPoints hooks, String prefix, LayerNorm.Weights lnWeights, int dMlp, float eps) {
        return switch (act) {
            case GELU_NEW -> new GeluActivation(Gelu.Kind.TANH);
            case GELU -> new GeluActivation(Gelu.Kind.ERF);
            case SOLU_LN -> new SoluLn(hooks, prefix, lnWeights, dMlp, eps);
            case SILU -> new SiluActivation();
        };
    }

    /** GELU in its tanh (gelu_new) or erf (gelu) form. */
    record GeluActivation(Gelu.Kind kind) implements NeuronActivation {
        @Override
        public Tensor forward(Backend ops, Tensor pre, boolean keep) {
            Tensor post = ops.empty(pre.shape());
            ops.gelu(kind, pre, post);
            return post;
        }

        @Override
        public Tensor backward(Backend ops, Tensor pre, Tensor dPost) {
            Tensor dPre = ops.zeros(pre.shape());
            ops.geluBackward(kind, pre, dPost, dPre);
            return dPre;
        }

        @Override
        public void release() {}
    }

    /** SiLU, x·σ(x). */
    record SiluActivation() implements NeuronActivation {
        @Override
        public Tensor forward(Backend ops, Tensor pre, boolean keep) {
            Tensor post = ops.empty(pre.shape());
            ops.silu(pre, post);
            return post;
        }

        @Override
        public Tensor backward(Backend ops, Tensor pre, Tensor dPost) {
            Tensor dPre = ops.zeros(pre.shape());
            ops.siluBackward(pre, dPost, dPre);
            return dPre;
        }

        @Override
        public void release() {}
    }

    /**
     * TransformerLens's solu_ln: {@code hook_mid} = pre ⊙ softmax(pre) over the neurons, then a
     * layer norm {@code ln} over d_mlp, whose output is the MLP's post-activation.
     */
    final class SoluLn implements NeuronActivation {
        public final HookPoint hookMid;
        public final LayerNorm ln;

        /** Registers hook_mid and the ln's hook points under {@code prefix} (the MLP's). */
        public SoluLn(HookPoints hooks, String prefix, LayerNorm.Weights weights, int dMlp, float eps) {
            hookMid = hooks.register(prefix + ".hook_mid");
            ln = new LayerNorm(hooks, prefix + ".ln", weights.w(), weights.b(), dMlp, eps);
        }

        @Override
        public Tensor forward(Backend ops, Tensor pre, boolean keep) {
            int width = pre.dim(-1), rows = pre.size() / width;
            Tensor mid = ops.empty(pre.shape());
            ops.solu(pre, mid, rows, width);
            return ln.forward(hookMid.forward(mid), keep);
        }

        @Override
        public Tensor backward(Backend ops, Tensor pre, Tensor dPost) {
            int width = pre.dim(-1), rows = pre.size() / width;
            Tensor dPre = ops.zeros(pre.shape());
            ops.soluBackward(pre, hookMid.backward(ln.backward(dPost)), dPre, rows, width);
            return dPre;
        }

        @Override
        public void release() {
            ln.release();
        }
    }
}
