package dev.jlens.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** `jlens` in a process of its own (its own heap, environment and exit), with what it printed. */
record JlensProcess(int exitCode, String out, String err) {
    /** Runs {@code args} with {@code jvmOptions} and {@code env}; output goes through files in {@code dir}. */
    static JlensProcess run(Path dir, List<String> jvmOptions, Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-Djlens.home=" + System.getProperty("jlens.home"), "-cp", System.getProperty("java.class.path"), Jlens.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("HF_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile(dir, "out", ".txt"), err = Files.createTempFile(dir, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        int code = pb.start().waitFor();
        String printed = Files.readString(err, StandardCharsets.UTF_8).replace("WARNING: Using incubator modules: jdk.incubator.vector", "").strip();
        return new JlensProcess(code, Files.readString(out, StandardCharsets.UTF_8), printed);
    }
}
