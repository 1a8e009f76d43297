package dev.jlens.models.loading;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.models.Config;
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
    private final String[] prefixes;
    private final java.util.Set<String> used = new java.util.HashSet<>();

    WeightSource(Checkpoint file, String... prefixes) {
        this.file = file;
        this.prefixes = prefixes;
    }

    boolean has(String name) {
        return resolve(name) != null;
    }

    Tensor get(String name, int... shape) {
        return get(name, null, shape);
    }

    /** As {@link #get(String, int...)}, reading into {@code scratch} when it has the tensor's size. */
    Tensor get(String name, float[] scratch, int... shape) {
        String stored = resolve(name);
        if (stored == null) {
            throw new JlensException(file.path() + ": missing tensor '" + name + "' (expected shape " + Arrays.toString(shape) + ").");
        }
        used.add(stored);
        Tensor t = file.read(stored, scratch);
        if (!t.hasShape(shape)) {
            throw new JlensException(file.path() + ": tensor '" + stored + "' has shape " + t.shapeString() + " but the config needs "
                    + Arrays.toString(shape) + ".");
        }
        return t;
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
