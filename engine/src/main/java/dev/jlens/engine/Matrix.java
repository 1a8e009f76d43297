package dev.jlens.engine;

/**
 * A matrix inside a tensor, as matrix calls take it: {@code rows × cols}, read from the tensor's
 * row-major values where element (i, j) of the stored matrix lies at {@code offset + i·ld + j}.
 * A transposed view reads a stored {@code cols × rows} matrix the other way round, so no
 * transposed copy is ever made. One head's slice of a wider activation is a view with an offset
 * and the wider row as its leading dimension; {@code ld = 0} repeats one stored row in every row.
 */
public record Matrix(Tensor data, int offset, int rows, int cols, int ld, boolean transposed) {
    public Matrix {
        if (rows < 0 || cols < 0 || offset < 0 || ld < 0) {
            throw new IllegalArgumentException("a matrix view needs non-negative sizes, not " + rows + " x " + cols
                    + " at " + offset + " with leading dimension " + ld);
        }
    }

    /** The first rows × cols values of {@code t}, row after row. */
    public static Matrix of(Tensor t, int rows, int cols) {
        return new Matrix(t, 0, rows, cols, cols, false);
    }

    /** A rows × cols matrix stored from {@code offset}, its rows {@code ld} values apart. */
    public static Matrix of(Tensor t, int offset, int rows, int cols, int ld) {
        return new Matrix(t, offset, rows, cols, ld, false);
    }

    /** This matrix read transposed: cols × rows, over the same values. */
    public Matrix t() {
        return new Matrix(data, offset, cols, rows, ld, !transposed);
    }

    /** Where element (i, j) of this view lies in {@link #data}. */
    public int index(int i, int j) {
        return transposed ? offset + j * ld + i : offset + i * ld + j;
    }

    /** Checks that c = a·b is a product of matching shapes into a matrix written row by row. */
    static void checkProduct(Matrix a, Matrix b, Matrix c) {
        if (a.cols != b.rows || c.rows != a.rows || c.cols != b.cols || c.transposed) {
            throw new IllegalArgumentException("cannot multiply " + a.shape() + " by " + b.shape() + " into " + c.shape());
        }
    }

    /** Checks that two views have one shape and that {@code dst} is written row by row. */
    static void checkSameShape(Matrix src, Matrix dst) {
        if (src.rows != dst.rows || src.cols != dst.cols || dst.transposed) {
            throw new IllegalArgumentException("cannot copy " + src.shape() + " into " + dst.shape());
        }
    }

    private String shape() {
        return rows + " x " + cols + (transposed ? " (transposed)" : "");
    }
}
