package dev.jlens.kernels.cuda;

/** A CUDA library could not be used, or one of its calls failed; the message says which and why. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }
}
