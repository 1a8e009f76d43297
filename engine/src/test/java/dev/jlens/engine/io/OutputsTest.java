package dev.jlens.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputsTest {
    @TempDir
    Path dir;

    @Test
    void aPublishedFileHasThePermissionsAnyNewFileGetsNotOwnerOnly() throws IOException {
        Assumptions.assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path plain = Files.createFile(dir.resolve("made-by-hand"));
        Path target = dir.resolve("result.bin");
        Path temp = Outputs.temporaryFileBeside(target);
        Files.writeString(temp, "x");
        Outputs.publishFile(temp, target, false);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(target));
        Path folder = dir.resolve("report");
        Outputs.writeDirectory(folder, false, staging -> Files.writeString(staging.resolve("a.csv"), "1"));
        Path plainFolder = Files.createDirectory(dir.resolve("folder-by-hand"));
        assertEquals(Files.getPosixFilePermissions(plainFolder), Files.getPosixFilePermissions(folder));
    }

    @Test
    void temporaryNamesAreUniqueAndHidden() throws IOException {
        Set<Path> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            Path t = Outputs.temporaryFileBeside(dir.resolve("x.safetensors"));
            assertTrue(seen.add(t), "unique");
            assertTrue(t.getFileName().toString().startsWith(".x.safetensors."), t.toString());
        }
    }

    @Test
    void aFileThatAppearsMeanwhileIsKeptAndTheResultDropped() throws IOException {
        Path target = dir.resolve("out.txt");
        Path temp = Outputs.temporaryFileBeside(target);
        Files.writeString(temp, "jlens's");
        Files.writeString(target, "the user's");
        JlensException e = assertThrows(JlensException.class, () -> Outputs.publishFile(temp, target, false));
        assertTrue(e.getMessage().contains("appeared while jlens was writing it"), e.getMessage());
        assertEquals("the user's", Files.readString(target, StandardCharsets.UTF_8));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(1, left.count(), "the temporary file is gone");
        }
    }
}
