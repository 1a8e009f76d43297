package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.hub.ShippedModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run that fills the heap ends in one sentence (what ran out, what the work needs, how to give it more), not a stack trace. */
class OutOfMemoryTest {
    @TempDir
    Path dir;

    @Test
    void aHeapTooSmallForTheModelIsOneSentenceNamingTheWeightsAndTheFlagToRaise() throws Exception {
        JlensProcess run = JlensProcess.run(dir, List.of("-Xmx10m"), Map.of(), "predict", "--model", ShippedModels.GPT2, "--prompt", "The capital of France is");
        assertEquals(1, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("jlens: ran out of memory: the Java heap's "), run.err());
        assertTrue(run.err().contains("the model's weights alone take 5 MB as float32") && run.err().contains("JLENS_JAVA_OPTS=-Xmx"), run.err());
        assertFalse(run.err().contains("Exception") || run.err().contains("Error"), run.err());
    }
}
