package dev.jlens.models.components;

/**
 * Scratch for the fused Q/K/V projection and its gradient, one per model: layers run one at a
 * time, so they can share it, and a forward pass allocates no weight-sized arrays.
 */
public final class FusedQkvBuffer {
    private float[] weights = new float[0], gradient = new float[0];

    /** At least {@code size} floats; the contents are the caller's to overwrite. */
    float[] weights(int size) {
        if (weights.length != size) weights = new float[size];
        return weights;
    }

    float[] gradient(int size) {
        if (gradient.length != size) gradient = new float[size];
        return gradient;
    }
}
