package dev.jlens.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * Matrix products on the GPU through cuBLAS, for row-major operands. cuBLAS is column-major, and a
 * row-major matrix read column-major is its transpose, so row-major C = op(A)·op(B) is computed as
 * column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap places and keep their own transpose flags.
 * TF32 is not enabled: products are full float32, as PyTorch's default.
 */
public final class Cublas {
    private final Cuda cuda;
    private final MethodHandle sgemm, sgemmStridedBatched, sgemv;
    private final MemorySegment handle;

    Cublas(Cuda cuda) {
        this.cuda = cuda;
        Native library = Native.open("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so"));
        MethodHandle create = library.function("cublasCreate_v2", ADDRESS);
        sgemm = library.criticalFunction("cublasSgemm_v2", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
        sgemmStridedBatched = library.criticalFunction("cublasSgemmStridedBatched", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG,
                JAVA_INT, JAVA_LONG, JAVA_INT);
        sgemv = library.criticalFunction("cublasSgemv_v2", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG,
                JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
        cuda.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = arena.allocate(ADDRESS);
            status("cublasCreate", (int) create.invokeExact(h));
            handle = h.get(ADDRESS, 0);
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cublasCreate failed: " + t);
        }
    }

    /**
     * Row-major C_i = alpha·op(A_i)·op(B_i) + beta·C_i for i &lt; count, operand i at its address plus
     * i times its stride (in floats); addresses are device addresses.
     */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     long a, int lda, long strideA, long b, int ldb, long strideB,
                     float beta, long c, int ldc, long strideC, int count) {
        if (m <= 0 || n <= 0 || count <= 0) return;
        cuda.makeCurrent();
        MemorySegment al = MemorySegment.ofArray(new float[] {alpha}), be = MemorySegment.ofArray(new float[] {beta});
        int opA = transA ? 1 : 0, opB = transB ? 1 : 0;
        try {
            if (count == 1) {
                status("cublasSgemm", (int) sgemm.invokeExact(handle, opB, opA, n, m, k, al, b, ldb, a, lda, be, c, ldc));
            } else {
                status("cublasSgemmStridedBatched", (int) sgemmStridedBatched.invokeExact(handle, opB, opA, n, m, k, al,
                        b, ldb, strideB, a, lda, strideA, be, c, ldc, strideC, count));
            }
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cublasSgemm failed: " + t);
        }
    }

    /** y += Σ_rows x for a row-major [rows × width] x with leading dimension ld: a bias gradient. */
    public void sumRows(long x, int rows, int width, int ld, long ones, long y) {
        if (rows <= 0 || width <= 0) return;
        cuda.makeCurrent();
        MemorySegment one = MemorySegment.ofArray(new float[] {1f});
        try {
            // Column-major, x is a width × rows matrix: y = x·1 + y.
            status("cublasSgemv", (int) sgemv.invokeExact(handle, 0, width, rows, one, x, ld, ones, 1, one, y, 1));
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cublasSgemv failed: " + t);
        }
    }

    private static void status(String what, int code) {
        if (code != 0) throw new CudaException(what + " failed with cuBLAS status " + code);
    }
}
