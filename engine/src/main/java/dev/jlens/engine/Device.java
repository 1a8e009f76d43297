package dev.jlens.engine;

import java.util.Locale;
import java.util.Map;

/** Where tensors live and kernels run: {@code --device}, else the JLENS_DEVICE variable, else the CPU. */
public enum Device {
    CPU, CUDA;

    public static Device parse(String name, String source) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new JlensException(source + ": unknown device '" + name + "' (jlens knows cpu and cuda).");
        };
    }

    /** The device asked for: the option when given, else JLENS_DEVICE, else the CPU. */
    public static Device choose(String option, Map<String, String> env) {
        if (option != null) return parse(option, "--device");
        String variable = env.get("JLENS_DEVICE");
        return variable == null || variable.isBlank() ? CPU : parse(variable, "JLENS_DEVICE");
    }
}
