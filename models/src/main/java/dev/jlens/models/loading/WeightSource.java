package dev.jlens.models.loading;

import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.models.Config;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Foreign-named tensors of one checkpoint, read with a check of their shape. Names are looked up
 * as given and, failing that, with a prefix that some exports add or drop ({@code transformer.}).
 * What was read is remembered, so that a checkpoint holding tensors the config does not use (more
 * layers than config.json declares, say) is refused rather than read in part.
 */
final class WeightSource {
    private final Checkpoint file;
    private final DataType held;
    private final String[] prefixes;
    private final java.util.Set<String> used = new java.util.HashSet<>();

    /** Tensors of {@code file} held as {@code held} (as stored when null). */
    WeightSource(Checkpoint file, DataType held, String... prefixes) {
        this.file = file;
        this.held = held;
        this.prefixes = prefixes;
    }

    boolean has(String name) {
        return resolve(name) != null;
    }

    /** The tensor, which must have {@code shape}, held for as long as the model (16-bit values may be the file's, mapped). */
    Tensor get(String name, int... shape) {
        return get(name, Arena.ofAuto(), shape);
    }

    /**
     * As {@link #get(String, int...)}, transposed in its last two axes (an output-major nn.Linear
     * weight as TransformerLens's input-major one). The stored tensor is dropped at once, its pages
     * unmapped, so that loading never holds a matrix twice.
     */
    Tensor transposed(String name, int... shape) {
        try (Arena stored = Arena.ofConfined()) {
            return get(name, stored, shape).transposeLastTwo();
        }
    }

    /** An output-major [heads·dHead, d] projection as TransformerLens's [heads, d, dHead]: each head's rows transposed, as {@link #transposed}. */
    Tensor headsTransposed(String name, int heads, int dHead, int d) {
        try (Arena stored = Arena.ofConfined()) {
            return get(name, stored, heads * dHead, d).reshape(heads, dHead, d).transposeLastTwo();
        }
    }

    private Tensor get(String name, Arena arena, int... shape) {
        String stored = used(name, shape);
        Tensor t = file.read(stored, held, arena);
        checkShape(t, stored, shape);
        return t;
    }

    /** As {@link #get(String, int...)} in float32, reading into {@code scratch} when it has the tensor's size (a transient the caller splits). */
    Tensor floats(String name, float[] scratch, int... shape) {
        String stored = used(name, shape);
        Tensor t = file.read(stored, scratch);
        checkShape(t, stored, shape);
        return t;
    }

    /** The stored name of {@code name}, now counted as read. */
    private String used(String name, int[] shape) {
        String stored = resolve(name);
        if (stored == null) {
            throw new JlensException(file.path() + ": missing tensor '" + name + "' (expected shape " + Arrays.toString(shape) + ").");
        }
        used.add(stored);
        return stored;
    }

    private void checkShape(Tensor t, String stored, int[] shape) {
        if (!t.hasShape(shape)) {
            throw new JlensException(file.path() + ": tensor '" + stored + "' has shape " + t.shapeString() + " but the config needs "
                    + Arrays.toString(shape) + ".");
        }
    }

    /**
     * Refuses a checkpoint with tensors nothing read, apart from those matching {@code buffers}
     * (exports keep causal masks and rotary frequencies, which jlens computes itself).
     */
    void requireAllUsed(String buffers, Config cfg) {
        List<String> unused = new ArrayList<>();
        for (String name : file.names()) if (!used.contains(name) && !name.matches(buffers)) unused.add(name);
        if (unused.isEmpty()) return;
        throw new JlensException(file.path() + ": holds " + unused.getFirst() + (unused.size() > 1 ? " and " + (unused.size() - 1) + " more tensors" : "")
                + " that the config (" + cfg.nLayers() + " layers, d_model " + cfg.dModel() + ") does not use; config.json and the weights disagree.");
    }

    private String resolve(String name) {
        if (file.contains(name)) return name;
        for (String prefix : prefixes) if (file.contains(prefix + name)) return prefix + name;
        return null;
    }
}
