package dev.jlens.engine.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a safetensors file byte by byte, so tests can build well-formed and broken ones alike. */
final class RawSafetensors {
    private RawSafetensors() {}

    static Path write(Path path, String headerJson, byte[] data) throws IOException {
        return write(path, headerJson.getBytes(StandardCharsets.UTF_8).length, headerJson, data);
    }

    /** With a declared header length that may lie. */
    static Path write(Path path, long declaredHeaderLength, String headerJson, byte[] data) throws IOException {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(declaredHeaderLength).put(header).put(data);
        Files.write(path, buffer.array());
        return path;
    }

    static byte[] floats(float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) buffer.putFloat(v);
        return buffer.array();
    }

    static byte[] shorts(short... values) {
        ByteBuffer buffer = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : values) buffer.putShort(v);
        return buffer.array();
    }
}
