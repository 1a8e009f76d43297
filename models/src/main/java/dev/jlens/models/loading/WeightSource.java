package dev.jlens.models.loading;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.Checkpoint;
import java.util.Arrays;

/**
 * Foreign-named tensors of one checkpoint, read with a check of their shape. Names are looked up
 * as given and, failing that, with a prefix that some exports add or drop ({@code transformer.}).
 */
final class WeightSource {
    private final Checkpoint file;
    private final String[] prefixes;

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
        Tensor t = file.read(stored, scratch);
        if (!t.hasShape(shape)) {
            throw new JlensException(file.path() + ": tensor '" + stored + "' has shape " + t.shapeString() + " but the config needs "
                    + Arrays.toString(shape) + ".");
        }
        return t;
    }

    private String resolve(String name) {
        if (file.contains(name)) return name;
        for (String prefix : prefixes) if (file.contains(prefix + name)) return prefix + name;
        return null;
    }
}
