package dev.jlens.engine.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import java.lang.foreign.Arena;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.engine.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Weights split over several safetensors files, as Hugging Face saves large models: an index
 * ({@code model.safetensors.index.json}) whose {@code weight_map} names each tensor's shard. Shards
 * are opened when first read from.
 */
public final class ShardedCheckpoint implements Checkpoint {
    private final Path index;
    private final Map<String, String> shardOf = new LinkedHashMap<>();
    private final Map<String, SafetensorsFile> open = new LinkedHashMap<>();

    private ShardedCheckpoint(Path index) {
        this.index = index;
    }

    public static ShardedCheckpoint open(Path index) {
        ShardedCheckpoint c = new ShardedCheckpoint(index);
        JsonNode map = Json.read(index).path("weight_map");
        if (!map.isObject() || map.isEmpty()) throw new JlensException(index + ": has no weight_map naming the shards.");
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shard = e.getValue().asText();
            if (shard.contains("/") || shard.contains("\\")) throw new JlensException(index + ": shard " + JlensException.quote(shard) + " is not a file beside the index.");
            if (!Files.isRegularFile(index.resolveSibling(shard))) {
                throw new JlensException(index + ": tensor " + JlensException.quote(e.getKey()) + " is in shard " + JlensException.quote(shard) + ", which is missing.");
            }
            c.shardOf.put(e.getKey(), shard);
        }
        return c;
    }

    @Override
    public Path path() {
        return index;
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(shardOf.keySet());
    }

    @Override
    public boolean contains(String name) {
        return shardOf.containsKey(name);
    }

    @Override
    public Tensor read(String name, float[] reuse) {
        return shard(name).read(name, reuse);
    }

    @Override
    public DataType storedType(String name) {
        return shard(name).storedType(name);
    }

    @Override
    public long elements(String name) {
        return shard(name).elements(name);
    }

    private SafetensorsFile shard(String name) {
        String shard = shardOf.get(name);
        if (shard == null) throw new JlensException(index + ": has no tensor " + JlensException.quote(name) + ".");
        return open.computeIfAbsent(shard, s -> SafetensorsFile.open(index.resolveSibling(s)));
    }

    @Override
    public Tensor read(String name, DataType type, Arena arena) {
        return shard(name).read(name, type, arena);
    }

    @Override
    public void close() {
        open.values().forEach(SafetensorsFile::close);
        open.clear();
    }
}
