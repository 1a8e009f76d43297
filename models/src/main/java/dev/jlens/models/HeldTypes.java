package dev.jlens.models;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import java.util.Map;

/**
 * Which of a model's weights are held in its weight type (16-bit when asked for, or as the
 * checkpoint stores them): the matrices (W_E, W_pos, W_Q ... W_U), which are nearly all of its
 * memory and which the kernels read 16-bit. Norm weights and biases, vectors read once for every
 * row, stay float32 whatever the model's type.
 */
public final class HeldTypes {
    private HeldTypes() {}

    /** Whether {@code name} is a weight matrix ({@code W_...} or a grouped-query {@code _W_K/_W_V}). */
    public static boolean isMatrix(String name) {
        String last = name.substring(name.lastIndexOf('.') + 1);
        return last.startsWith("W_") || last.startsWith("_W_");
    }

    /** Holds every matrix of {@code state} as {@code type} and everything else as float32. */
    public static void hold(Map<String, Tensor> state, DataType type) {
        state.forEach((name, t) -> t.convertTo(isMatrix(name) ? type : DataType.FLOAT32));
    }

    /**
     * As {@link #hold(Map, DataType)} for the entries whose names start with {@code prefix} (one
     * layer's, say): weight processing widens a layer at a time and rounds it back when done, so
     * a 16-bit model is never held whole in float32.
     */
    public static void hold(Map<String, Tensor> state, String prefix, DataType type) {
        state.forEach((name, t) -> {
            if (name.startsWith(prefix)) t.convertTo(isMatrix(name) ? type : DataType.FLOAT32);
        });
    }

    /** The type the model's matrices are held in (that of W_E). */
    public static DataType of(HookedTransformer model) {
        return model.parameter("embed.W_E").value().dtype();
    }

    /** The type the matrices of {@code state} are held in (that of W_E). */
    public static DataType of(Map<String, Tensor> state) {
        Tensor embedding = state.get("embed.W_E");
        return embedding == null ? DataType.FLOAT32 : embedding.dtype();
    }
}
