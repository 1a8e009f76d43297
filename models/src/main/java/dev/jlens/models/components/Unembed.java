package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.DataType;
import dev.jlens.engine.Device;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;

/**
 * logits = x·W_U + b_U. W_U [d_model, d_vocab], b_U [d_vocab]. Gemma 2 then soft-caps them,
 * logits = cap·tanh(logits / cap) (TransformerLens's output_logits_soft_cap), after which no
 * constant added to every logit leaves the log-probabilities as they were.
 *
 * <p>A checkpoint that ties the unembedding to the embedding (GPT-2) needs no copy of it to run:
 * until W_U is asked for, logits are x·W_Eᵀ. Asking for W_U (a backward, the parameter list,
 * analysis) makes it a parameter of its own, W_U = W_Eᵀ, independent from then on as in
 * TransformerLens. Gemma's W_U, the stored embedding transposed, is a {@linkplain Tensor#derived
 * derived} tensor until its values are asked for: products read the embedding through a transposed
 * view meanwhile.
 */
public final class Unembed {
    private final Parameter tiedEmbedding;
    private Parameter wU;
    public final Parameter b_U;
    private final int dModel, dVocab;
    /** 0, or the logits' soft cap. */
    private float softCap;
    /** Whether the W_U a tie will be made into takes gradients (a W_U of its own carries its own flag). */
    private boolean tiedRequiresGrad = true;
    private Tensor x, cappedLogits;
    private int[] inputShape;

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

    /** Soft-caps the logits at {@code cap} from now on (0: not at all). */
    public Unembed softCapped(float cap) {
        this.softCap = cap;
        return this;
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
            wU.setRequiresGrad(tiedRequiresGrad);
            tiedEmbedding.moveTo(where);
            wU.moveTo(where);
        }
        return wU;
    }

    /** As {@link Parameter#setRequiresGrad} for W_U, without making a tied W_U a matrix of its own. */
    public void setRequiresGrad(boolean on) {
        if (wU == null) tiedRequiresGrad = on;
        else wU.setRequiresGrad(on);
    }

    /** Whether W_U takes gradients. */
    public boolean requiresGrad() {
        return wU == null ? tiedRequiresGrad : wU.requiresGrad();
    }

    /** Rows of logits made at a time when they go to native memory: 16M values (64 MB). */
    private static final int BLOCK_VALUES = 1 << 24;

    /**
     * x [B, T, D] → logits [B, T, V]. Logits of more values than an array holds (a 128k-token
     * vocabulary over 16k positions) are made in native memory, a block of rows at a time.
     */
    public Tensor forward(Tensor x, boolean keep) {
        int n = x.size() / dModel;
        Tensor logits;
        if ((long) n * dVocab <= Tensor.MAX_ARRAY) {
            logits = Backend.of(b_U.value()).empty(x.dim(0), x.dim(1), dVocab);
            unembedRows(x, 0, n, logits);
            if (softCap > 0) Backend.of(logits).softCap(logits, logits, softCap);
        } else {
            logits = inNativeMemory(x, Math.max(1, BLOCK_VALUES / dVocab));
        }
        if (keep) {
            // x feeds only W_U's gradient; its shape is all dx needs.
            this.x = requiresGrad() ? x : null;
            this.inputShape = x.shape();
            this.cappedLogits = softCap > 0 ? logits : null;
        }
        return logits;
    }

    /** The logits of x [B, T, D] in native memory, {@code blockRows} rows at a time through an array (as {@link #forward} makes those no array holds). */
    Tensor inNativeMemory(Tensor x, int blockRows) {
        int n = x.size() / dModel;
        Tensor logits = Tensor.nativeZeros(DataType.FLOAT32, x.dim(0), x.dim(1), dVocab);
        for (int first = 0; first < n; first += blockRows) {
            int rows = Math.min(blockRows, n - first);
            Tensor block = Backend.of(b_U.value()).empty(rows, dVocab);
            unembedRows(x, first, rows, block);
            if (softCap > 0) Backend.of(block).softCap(block, block, softCap);
            logits.write(block.data(), 0, (long) first * dVocab, rows * dVocab);
        }
        return logits;
    }

    /** out [rows, V] = x[first .. first + rows)·W_U + b_U. */
    private void unembedRows(Tensor x, int first, int rows, Tensor out) {
        Backend ops = Backend.of(b_U.value());
        Linear.forward(ops, Matrix.of(x, first * dModel, rows, dModel, dModel), unembedding(), b_U.value(), Matrix.of(out, rows, dVocab));
    }

    /** W_U [D, V] as products read it: W_Eᵀ while tied, the source's transposed view while W_U is derived from it, else W_U. */
    private Matrix unembedding() {
        if (wU == null) return Matrix.of(tiedEmbedding.value(), dVocab, dModel).t();
        if (wU.value().derivation() instanceof Tensor.Transposed transposed) return Matrix.of(transposed.source(), dVocab, dModel).t();
        return Matrix.of(wU.value(), dModel, dVocab);
    }

    /** Back through the cap; then db_U += Σ dlogits, dW_U += xᵀ·dlogits (each where wanted), dx = dlogits·W_Uᵀ. */
    public Tensor backward(Tensor dCapped) {
        Backend ops = Backend.of(b_U.value());
        Tensor dLogits = dCapped;
        if (softCap > 0) {
            dLogits = ops.empty(dCapped.shape());
            ops.softCapBackward(cappedLogits, dCapped, dLogits, softCap);
        }
        int n = dLogits.size() / dVocab;
        Tensor dx = ops.empty(inputShape);
        if (b_U.requiresGrad()) Linear.biasGradient(ops, Matrix.of(dLogits, n, dVocab), b_U.grad());
        // A tied unembedding whose gradient nobody wants stays W_Eᵀ: dx = dlogits·W_E, with no copy made.
        if (wU == null && tiedRequiresGrad) W_U();
        Matrix unembedding = unembedding();
        if (x != null) Linear.weightGradient(ops, Matrix.of(x, n, dModel), Matrix.of(dLogits, n, dVocab), Matrix.of(wU.grad(), dModel, dVocab));
        Linear.inputGradient(ops, Matrix.of(dLogits, n, dVocab), unembedding, Matrix.of(dx, n, dModel));
        return dx;
    }

    public void release() {
        x = cappedLogits = null;
        inputShape = null;
    }
}
