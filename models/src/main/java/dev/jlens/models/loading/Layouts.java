package dev.jlens.models.loading;

import dev.jlens.engine.Tensor;

/** Index shuffles between foreign weight layouts and TransformerLens's, both ways. */
public final class Layouts {
    private Layouts() {}

    /**
     * Columns [colOffset + h·dHead, + dHead) of a [dModel, width] matrix for each head h, as
     * [heads, dModel, dHead]: one of q, k, v out of a fused projection stored input-major.
     */
    public static Tensor headsFromColumns(Tensor w, int colOffset, int colStride, int heads, int dHead) {
        int dModel = w.dim(0), width = w.dim(1);
        Tensor out = Tensor.zeros(w.dtype(), heads, dModel, dHead);
        for (int h = 0; h < heads; h++) {
            for (int d = 0; d < dModel; d++) w.copyTo(d * width + colOffset + h * colStride, out, (h * dModel + d) * dHead, dHead);
        }
        return out;
    }

    /** Entries [offset + h·stride, + dHead) of a bias vector for each head, as [heads, dHead]. */
    static Tensor headsFromVector(Tensor b, int offset, int stride, int heads, int dHead) {
        Tensor out = Tensor.zeros(b.dtype(), heads, dHead);
        for (int h = 0; h < heads; h++) b.copyTo(offset + h * stride, out, h * dHead, dHead);
        return out;
    }

    /** The inverse of {@link #headsFromColumns}: writes [heads, dModel, dHead] into columns of {@code into}. */
    public static void headsToColumns(Tensor heads, Tensor into, int colOffset, int colStride) {
        int h = heads.dim(0), dModel = heads.dim(1), dHead = heads.dim(2), width = into.dim(1);
        for (int head = 0; head < h; head++) {
            for (int d = 0; d < dModel; d++) heads.copyTo((head * dModel + d) * dHead, into, d * width + colOffset + head * colStride, dHead);
        }
    }

    /** The inverse of {@link #headsFromVector}. */
    static void headsToVector(Tensor heads, Tensor into, int offset, int stride) {
        int h = heads.dim(0), dHead = heads.dim(1);
        for (int head = 0; head < h; head++) heads.copyTo(head * dHead, into, offset + head * stride, dHead);
    }
}
