package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Device;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;

/**
 * logits = x·W_U + b_U. W_U [d_model, d_vocab], b_U [d_vocab].
 *
 * <p>A checkpoint that ties the unembedding to the embedding (GPT-2) needs no copy of it to run:
 * until W_U is asked for, logits are x·W_Eᵀ. Asking for W_U (a backward, the parameter list,
 * analysis) makes it a parameter of its own, W_U = W_Eᵀ, independent from then on as in
 * TransformerLens.
 */
public final class Unembed {
    private final Parameter tiedEmbedding;
    private Parameter wU;
    public final Parameter b_U;
    private final int dModel, dVocab;
    private Tensor x;

    private Unembed(Parameter wU, Parameter tiedEmbedding, Parameter bU, int dModel, int dVocab) {
        this.wU = wU;
        this.tiedEmbedding = tiedEmbedding;
        this.b_U = bU;
        this.dModel = dModel;
        this.dVocab = dVocab;
    }

    public static Unembed of(Parameter wU, Parameter bU) {
        return new Unembed(wU, null, bU, wU.value().dim(0), wU.value().dim(1));
    }

    /** An unembedding that is W_Eᵀ until {@link #W_U()} is first called. */
    public static Unembed tiedTo(Parameter wE, Parameter bU) {
        return new Unembed(null, wE, bU, wE.value().dim(1), wE.value().dim(0));
    }

    /** Whether the unembedding still runs on W_Eᵀ, with no W_U of its own yet. */
    public boolean tied() {
        return wU == null;
    }

    /** W_U as a parameter of its own (materialised from W_Eᵀ on first call when tied). */
    public Parameter W_U() {
        if (wU == null) {
            // Transposed on the host; both end where the embedding was, which reading it moved.
            Device where = tiedEmbedding.value().isOnDevice() ? Device.CUDA : Device.CPU;
            wU = Parameter.of("unembed.W_U", tiedEmbedding.value().transposeLastTwo());
            tiedEmbedding.moveTo(where);
            wU.moveTo(where);
        }
        return wU;
    }

    /** x [B, T, D] → logits [B, T, V]. */
    public Tensor forward(Tensor x, boolean keep) {
        int n = x.size() / dModel;
        Backend ops = Backend.of(b_U.value());
        Tensor logits = ops.empty(x.dim(0), x.dim(1), dVocab);
        if (wU == null) {
            ops.matmul(Matrix.of(x, n, dModel), Matrix.of(tiedEmbedding.value(), dVocab, dModel).t(), b_U.value(), Matrix.of(logits, n, dVocab));
        } else {
            Linear.forward(ops, Matrix.of(x, n, dModel), Matrix.of(wU.value(), dModel, dVocab), b_U.value(), Matrix.of(logits, n, dVocab));
        }
        if (keep) this.x = x;
        return logits;
    }

    public Tensor backward(Tensor dLogits) {
        Parameter w = W_U();
        Backend ops = Backend.of(b_U.value());
        int n = dLogits.size() / dVocab;
        Tensor dx = ops.empty(x.shape());
        Linear.biasGradient(ops, Matrix.of(dLogits, n, dVocab), b_U.grad());
        Linear.weightGradient(ops, Matrix.of(x, n, dModel), Matrix.of(dLogits, n, dVocab), Matrix.of(w.grad(), dModel, dVocab));
        Linear.inputGradient(ops, Matrix.of(dLogits, n, dVocab), Matrix.of(w.value(), dModel, dVocab), Matrix.of(dx, n, dModel));
        return dx;
    }

    public void release() {
        x = null;
    }
}
