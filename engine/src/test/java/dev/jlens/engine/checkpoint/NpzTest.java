package dev.jlens.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.io.Json;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The npz reader against files numpy 2.4 wrote (np.savez and np.savez_compressed, in
 * src/test/resources/npz): float32, float64, float16, big-endian and Fortran-order arrays and a 0-d
 * one, each equal to the values numpy listed in C order; and what it refuses, in one sentence.
 */
class NpzTest {
    static Path resource(String name) throws URISyntaxException {
        return Path.of(NpzTest.class.getResource("/npz/" + name).toURI());
    }

    @Test
    void readsWhatNumpyWroteStoredAndDeflatedInEveryFloatTypeOrderAndByteOrder() throws Exception {
        JsonNode expected = Json.read(resource("expected.json"));
        Map<String, Tensor> params = Npz.read(resource("params.npz")), mixed = Npz.read(resource("mixed.npz"));
        assertEquals(List.of("W_enc", "W_dec", "b_enc", "b_dec", "threshold"), List.copyOf(params.keySet()));
        assertEquals(List.of("f64", "f16", "fortran", "bigendian", "scalar"), List.copyOf(mixed.keySet()));
        for (Map<String, Tensor> arrays : List.of(params, mixed)) {
            arrays.forEach((name, t) -> {
                JsonNode e = expected.get(name);
                int[] shape = new int[e.get("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = e.get("shape").get(i).asInt();
                assertArrayEquals(shape.length == 0 ? new int[] {1} : shape, t.shape(), name);
                float[] want = new float[e.get("values").size()];
                for (int i = 0; i < want.length; i++) want[i] = (float) e.get("values").get(i).asDouble();
                assertArrayEquals(want, t.data(), 0f, name);
            });
        }
    }

    @Test
    void refusesWhatIsNotAFloatArrayInOneSentence() throws Exception {
        String[][] cases = {
                {"integers.npz", "array 'counts' has dtype '<i8'; jlens reads floating-point arrays (float16, float32, float64)."},
                {"truncated.npz", "array 'W_enc' is truncated: its shape [8, 16] needs 512 bytes, and 492 are there."},
                {"malformed.npz", "array 'W_enc' has a malformed header (not a dict)"},
                {"notazip.npz", "is not an npz file (a zip of .npy arrays)"},
        };
        for (String[] c : cases) {
            Path file = resource(c[0]);
            JlensException e = assertThrows(JlensException.class, () -> Npz.read(file), c[0]);
            assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains(c[1]), e.getMessage());
            assertEquals(1, e.getMessage().split("\\. [A-Z]").length, "one sentence: " + e.getMessage());
        }
    }
}
