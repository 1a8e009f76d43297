package dev.jlens.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * jlens's own CUDA kernels ({@code kernels.cu} beside this class), compiled by NVRTC for this GPU
 * on first use and launched by name. Arguments are passed as Java values whose types must match
 * the kernel's parameters: {@code long} for device pointers and C {@code long}s, {@code int},
 * {@code float}.
 */
public final class Kernels {
    /** Threads per block: reductions use one block per row, elementwise kernels stride over a grid. */
    public static final int THREADS = 256;
    private static final int MAX_BLOCKS = 65535;

    private final Cuda cuda;
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final MethodHandle getFunction;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment values, pointers;

    Kernels(Cuda cuda, Native driver) {
        this.cuda = cuda;
        MethodHandle load = driver.function("cuModuleLoadData", ADDRESS, ADDRESS);
        getFunction = driver.function("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        byte[] ptx = Nvrtc.compile(source(), "kernels.cu", cuda.architecture());
        try (Arena local = Arena.ofConfined()) {
            MemorySegment image = local.allocate(ptx.length + 1L);
            image.copyFrom(MemorySegment.ofArray(ptx));
            MemorySegment out = local.allocate(ADDRESS);
            cuda.makeCurrent();
            cuda.call("cuModuleLoadData", () -> (int) load.invokeExact(out, image));
            module = out.get(ADDRESS, 0);
        }
        values = arena.allocate(8L * 32, 8);
        pointers = arena.allocate(8L * 32, 8);
    }

    private static String source() {
        try (InputStream in = Kernels.class.getResourceAsStream("kernels.cu")) {
            if (in == null) throw new CudaException("kernels.cu is missing from the jlens-kernels jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CudaException("cannot read kernels.cu: " + e.getMessage());
        }
    }

    /** Blocks for a grid-stride loop over n elements. */
    public static int blocksFor(long n) {
        return (int) Math.max(1, Math.min(MAX_BLOCKS, (n + THREADS - 1) / THREADS));
    }

    /** An elementwise kernel over n elements. */
    public void elementwise(String name, long n, Object... arguments) {
        if (n > 0) launch(name, blocksFor(n), 1, arguments);
    }

    /** One block of {@link #THREADS} per row (rows ≤ 2³¹ − 1 as grid x). */
    public void perRow(String name, long rows, Object... arguments) {
        if (rows > 0) launch(name, (int) rows, 1, arguments);
    }

    public synchronized void launch(String name, int gridX, int gridY, Object... arguments) {
        MemorySegment function = functions.computeIfAbsent(name, this::function);
        for (int i = 0; i < arguments.length; i++) {
            long at = 8L * i;
            switch (arguments[i]) {
                case Long l -> values.set(JAVA_LONG, at, l);
                case Integer n -> values.set(JAVA_INT, at, n);
                case Float f -> values.set(JAVA_FLOAT, at, f);
                case Double d -> values.set(JAVA_DOUBLE, at, d);
                default -> throw new IllegalArgumentException("kernel argument of type " + arguments[i].getClass());
            }
            pointers.set(ADDRESS, at, values.asSlice(at));
        }
        cuda.launch(function, gridX, gridY, THREADS, 0, pointers);
    }

    private MemorySegment function(String name) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ADDRESS);
            cuda.call("cuModuleGetFunction(" + name + ")", () -> (int) getFunction.invokeExact(out, module, local.allocateFrom(name)));
            return out.get(ADDRESS, 0);
        }
    }
}
