package dev.jlens.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the NVIDIA driver reports, asked through the FFM API rather than JCuda: JCuda's natives are
 * built against CUDA 12 and fail to load where the driver is newer, while the driver API
 * ({@code libcuda.so.1}: cuInit, cuDeviceGetCount, cuDeviceGetName) is stable across versions.
 */
public final class CudaDriver {
    /** The GPUs found, or why there are none. */
    public record Probe(List<String> devices, String problem) {
        public boolean available() {
            return !devices.isEmpty();
        }
    }

    private CudaDriver() {}

    public static Probe probe() {
        return probe("libcuda.so.1");
    }

    static Probe probe(String library) {
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup cuda;
            try {
                cuda = SymbolLookup.libraryLookup(library, arena);
            } catch (IllegalArgumentException e) {
                return new Probe(List.of(), "cannot load " + library + ", the NVIDIA driver's library, so there is no usable NVIDIA GPU here");
            }
            MethodHandle init = function(linker, cuda, "cuInit", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)).orElse(null);
            MethodHandle count = function(linker, cuda, "cuDeviceGetCount", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS)).orElse(null);
            MethodHandle name = function(linker, cuda, "cuDeviceGetName",
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)).orElse(null);
            if (init == null || count == null || name == null) return new Probe(List.of(), library + " lacks the CUDA driver API");
            int status = (int) init.invokeExact(0);
            if (status != 0) return new Probe(List.of(), "the NVIDIA driver did not start (cuInit returned " + status + ")");
            MemorySegment n = arena.allocate(ValueLayout.JAVA_INT);
            status = (int) count.invokeExact(n);
            if (status != 0 || n.get(ValueLayout.JAVA_INT, 0) == 0) return new Probe(List.of(), "the NVIDIA driver sees no GPU");
            List<String> devices = new ArrayList<>();
            MemorySegment buffer = arena.allocate(256);
            for (int d = 0; d < n.get(ValueLayout.JAVA_INT, 0); d++) {
                status = (int) name.invokeExact(buffer, 256, d);
                devices.add(status == 0 ? buffer.getString(0) : "GPU " + d);
            }
            return new Probe(devices, null);
        } catch (Throwable t) {
            return new Probe(List.of(), "asking the NVIDIA driver failed (" + t + ")");
        }
    }

    private static Optional<MethodHandle> function(Linker linker, SymbolLookup lookup, String symbol, FunctionDescriptor descriptor) {
        return lookup.find(symbol).map(address -> linker.downcallHandle(address, descriptor));
    }
}
