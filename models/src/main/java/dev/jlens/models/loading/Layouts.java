package dev.jlens.models.loading;

import dev.jlens.engine.Tensor;

/** Index shuffles between foreign weight layouts and TransformerLens's, both ways. */
public final class Layouts {
    private Layouts() {}

    /** A matrix [rows, cols] as [cols, rows]. */
    public static Tensor transpose(Tensor t) {
        return transposeLastTwo(t);
    }

    /** [..., rows, cols] as [..., cols, rows]: each matrix of a stack transposed. */
    public static Tensor transposeLastTwo(Tensor t) {
        int[] shape = t.shape();
        int rows = shape[shape.length - 2], cols = shape[shape.length - 1], batch = t.size() / Math.max(1, rows * cols);
        float[] in = t.data(), out = new float[in.length];
        for (int b = 0; b < batch; b++) {
            int o = b * rows * cols;
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) out[o + j * rows + i] = in[o + i * cols + j];
        }
        shape[shape.length - 2] = cols;
        shape[shape.length - 1] = rows;
        return Tensor.of(out, shape);
    }

    /**
     * Columns [colOffset + h·dHead, + dHead) of a [dModel, width] matrix for each head h, as
     * [heads, dModel, dHead]: one of q, k, v out of a fused projection stored input-major.
     */
    public static Tensor headsFromColumns(Tensor w, int colOffset, int colStride, int heads, int dHead) {
        int dModel = w.dim(0), width = w.dim(1);
        float[] in = w.data(), out = new float[heads * dModel * dHead];
        for (int h = 0; h < heads; h++) {
            for (int d = 0; d < dModel; d++) {
                System.arraycopy(in, d * width + colOffset + h * colStride, out, (h * dModel + d) * dHead, dHead);
            }
        }
        return Tensor.of(out, heads, dModel, dHead);
    }

    /** Entries [offset + h·stride, + dHead) of a bias vector for each head, as [heads, dHead]. */
    static Tensor headsFromVector(Tensor b, int offset, int stride, int heads, int dHead) {
        float[] out = new float[heads * dHead];
        for (int h = 0; h < heads; h++) System.arraycopy(b.data(), offset + h * stride, out, h * dHead, dHead);
        return Tensor.of(out, heads, dHead);
    }

    /** The inverse of {@link #headsFromColumns}: writes [heads, dModel, dHead] into columns of {@code into}. */
    public static void headsToColumns(Tensor heads, Tensor into, int colOffset, int colStride) {
        int h = heads.dim(0), dModel = heads.dim(1), dHead = heads.dim(2), width = into.dim(1);
        for (int head = 0; head < h; head++) {
            for (int d = 0; d < dModel; d++) {
                System.arraycopy(heads.data(), (head * dModel + d) * dHead, into.data(), d * width + colOffset + head * colStride, dHead);
            }
        }
    }

    /** The inverse of {@link #headsFromVector}. */
    static void headsToVector(Tensor heads, Tensor into, int offset, int stride) {
        int h = heads.dim(0), dHead = heads.dim(1);
        for (int head = 0; head < h; head++) System.arraycopy(heads.data(), head * dHead, into.data(), offset + head * stride, dHead);
    }
}
