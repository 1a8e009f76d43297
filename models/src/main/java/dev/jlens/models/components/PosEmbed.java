package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;

/**
 * Learned absolute positions: out[b, t] = W_pos[position of (b, t)], position t itself in a plain
 * batch, counted from the sequence's start after left padding or a KV cache's positions
 * ({@link Span#positionIds}); 0 at left padding, as TransformerLens zeroes it. W_pos [n_ctx, d_model].
 */
public final class PosEmbed {
    public final Parameter W_pos;
    private final int dModel;

    public PosEmbed(Parameter wPos) {
        this.W_pos = wPos;
        this.dModel = wPos.value().dim(1);
    }

    public Tensor forward(Span span) {
        Backend ops = Backend.of(W_pos.value());
        int batch = span.batch(), pos = span.pos();
        int[] ids = span.positionIds();
        if (ids == null) {
            Tensor out = ops.empty(batch, pos, dModel);
            for (int b = 0; b < batch; b++) ops.copyRows(Matrix.of(W_pos.value(), 0, 1, pos * dModel, 0), Matrix.of(out, b * pos * dModel, 1, pos * dModel, 0));
            return out;
        }
        Tensor out = ops.zeros(batch, pos, dModel);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < pos; t++) {
                if (span.padding(b, t)) continue;
                ops.copyRows(Matrix.of(W_pos.value(), ids[b * pos + t] * dModel, 1, dModel, 0), Matrix.of(out, (b * pos + t) * dModel, 1, dModel, 0));
            }
        }
        return out;
    }

    /** dW_pos[position of (b, t)] += dOut[b, t], over every real position. */
    public void backward(Tensor dOut, Span span) {
        if (!W_pos.requiresGrad()) return;
        Backend ops = Backend.of(W_pos.value());
        int batch = span.batch(), pos = span.pos();
        int[] ids = span.positionIds();
        if (ids == null) {
            ops.sumRows(Matrix.of(dOut, batch, pos * dModel), W_pos.grad());
            return;
        }
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < pos; t++) {
                if (span.padding(b, t)) continue;
                ops.addRows(Matrix.of(dOut, (b * pos + t) * dModel, 1, dModel, 0), Matrix.of(W_pos.grad(), ids[b * pos + t] * dModel, 1, dModel, 0));
            }
        }
    }
}
