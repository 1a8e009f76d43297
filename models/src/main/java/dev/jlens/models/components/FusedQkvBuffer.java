package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Device;
import dev.jlens.engine.Tensor;

/**
 * Scratch for the fused Q/K/V projection and its gradient, one per model: layers run one at a
 * time, so on the CPU they share it and a forward pass allocates no weight-sized arrays. (GPU
 * memory comes from a pool that already reuses blocks by size.)
 */
public final class FusedQkvBuffer {
    private float[] weights = new float[0], gradient = new float[0];

    /** A [rows, cols] tensor whose contents are the caller's to overwrite. */
    Tensor weights(Backend ops, int rows, int cols) {
        if (ops.device() != Device.CPU) return ops.empty(rows, cols);
        if (weights.length != rows * cols) weights = new float[rows * cols];
        return Tensor.of(weights, rows, cols);
    }

    /** A [rows, cols] tensor of zeros. */
    Tensor gradient(Backend ops, int rows, int cols) {
        if (ops.device() != Device.CPU) return ops.zeros(rows, cols);
        if (gradient.length != rows * cols) gradient = new float[rows * cols];
        else java.util.Arrays.fill(gradient, 0f);
        return Tensor.of(gradient, rows, cols);
    }
}
