package dev.jlens.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * The GPU, through the CUDA driver API ({@code libcuda.so.1}) called with the FFM API: its primary
 * context, memory, copies and kernel launches. JCuda is not used because its natives are built
 * against CUDA 12 and fail to load where only CUDA 13's libraries are installed; the driver API,
 * NVRTC and cuBLAS are stable C interfaces that FFM reaches whatever the toolkit version.
 *
 * <p>Everything runs on the legacy default stream, so work is ordered as it is issued and memory
 * returned to the pool may be reused by the next kernel without a synchronisation.
 */
public final class Cuda {
    private static Cuda instance;
    private static CudaException failure;

    private final MethodHandle ctxSetCurrent, memAlloc, memFree, htod, dtoh, dtod, memsetD32, launch, synchronize, errorName;
    private final MemorySegment context;
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private final String deviceName;
    private final long totalBytes;
    private final int computeMajor, computeMinor;
    final DevicePool pool;
    final Cublas cublas;
    final Kernels kernels;

    /** The GPU, started on first use; a CudaException (the same one every time) when there is none. */
    public static synchronized Cuda get() {
        if (instance != null) return instance;
        if (failure != null) throw failure;
        CudaDriver.Probe probe = CudaDriver.probe();
        if (!probe.available()) throw failure = new CudaException(probe.problem());
        try {
            instance = new Cuda();
        } catch (CudaException e) {
            failure = e;
            throw e;
        }
        return instance;
    }

    private Cuda() {
        Native driver = Native.open("the NVIDIA driver", List.of("libcuda.so.1"));
        errorName = driver.function("cuGetErrorName", JAVA_INT, ADDRESS);
        MethodHandle init = driver.function("cuInit", JAVA_INT);
        MethodHandle deviceGet = driver.function("cuDeviceGet", ADDRESS, JAVA_INT);
        MethodHandle attribute = driver.function("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        MethodHandle name = driver.function("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        MethodHandle totalMem = driver.function("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        MethodHandle retain = driver.function("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        ctxSetCurrent = driver.function("cuCtxSetCurrent", ADDRESS);
        memAlloc = driver.function("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        memFree = driver.function("cuMemFree_v2", JAVA_LONG);
        htod = driver.criticalFunction("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        dtoh = driver.criticalFunction("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        dtod = driver.function("cuMemcpyDtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
        memsetD32 = driver.function("cuMemsetD32_v2", JAVA_LONG, JAVA_INT, JAVA_LONG);
        launch = driver.function("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        synchronize = driver.function("cuCtxSynchronize");
        try (Arena arena = Arena.ofConfined()) {
            check("cuInit", (int) init.invokeExact(0));
            MemorySegment device = arena.allocate(JAVA_INT);
            check("cuDeviceGet", (int) deviceGet.invokeExact(device, 0));
            int ordinal = device.get(JAVA_INT, 0);
            MemorySegment value = arena.allocate(JAVA_LONG);
            check("cuDeviceGetAttribute", (int) attribute.invokeExact(value, 75, ordinal)); // compute capability major
            computeMajor = value.get(JAVA_INT, 0);
            check("cuDeviceGetAttribute", (int) attribute.invokeExact(value, 76, ordinal)); // minor
            computeMinor = value.get(JAVA_INT, 0);
            check("cuDeviceTotalMem", (int) totalMem.invokeExact(value, ordinal));
            totalBytes = value.get(JAVA_LONG, 0);
            MemorySegment text = arena.allocate(256);
            check("cuDeviceGetName", (int) name.invokeExact(text, 256, ordinal));
            deviceName = text.getString(0);
            MemorySegment ctx = arena.allocate(ADDRESS);
            check("cuDevicePrimaryCtxRetain", (int) retain.invokeExact(ctx, ordinal));
            context = ctx.get(ADDRESS, 0);
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("starting the GPU failed: " + t);
        }
        makeCurrent();
        pool = new DevicePool(this, totalBytes);
        cublas = new Cublas(this);
        kernels = new Kernels(this, driver);
    }

    public String deviceName() {
        return deviceName;
    }

    /** The virtual architecture NVRTC compiles for, "compute_90" on an H100; the driver finishes the code. */
    String architecture() {
        return "compute_" + computeMajor + computeMinor;
    }

    /** The primary context is current per thread: every entry point makes it current on the caller's. */
    void makeCurrent() {
        if (current.get()) return;
        try {
            check("cuCtxSetCurrent", (int) ctxSetCurrent.invokeExact(context));
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuCtxSetCurrent failed: " + t);
        }
        current.set(true);
    }

    /** Device memory of {@code bytes}, or 0 when the GPU has none left (the pool decides what then). */
    long tryAllocate(long bytes) {
        makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(JAVA_LONG);
            int status = (int) memAlloc.invokeExact(pointer, bytes);
            if (status == 2) return 0; // CUDA_ERROR_OUT_OF_MEMORY
            check("cuMemAlloc", status);
            return pointer.get(JAVA_LONG, 0);
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuMemAlloc failed: " + t);
        }
    }

    void free(long address) {
        makeCurrent();
        call("cuMemFree", () -> (int) memFree.invokeExact(address));
    }

    /** A new device buffer of {@code floats} values, contents undefined. */
    public DeviceBuffer allocate(long floats) {
        return pool.allocate(floats);
    }

    public DeviceBuffer upload(float[] values) {
        DeviceBuffer buffer = allocate(values.length);
        makeCurrent();
        call("cuMemcpyHtoD", () -> (int) htod.invokeExact(buffer.address(), MemorySegment.ofArray(values), 4L * values.length));
        return buffer;
    }

    public DeviceBuffer upload(int[] values) {
        DeviceBuffer buffer = allocate(values.length);
        makeCurrent();
        call("cuMemcpyHtoD", () -> (int) htod.invokeExact(buffer.address(), MemorySegment.ofArray(values), 4L * values.length));
        return buffer;
    }

    /** Copies {@code into.length} floats from the device address (waits for the work before it). */
    public void download(long address, float[] into) {
        makeCurrent();
        call("cuMemcpyDtoH", () -> (int) dtoh.invokeExact(MemorySegment.ofArray(into), address, 4L * into.length));
    }

    public void download(long address, double[] into) {
        makeCurrent();
        call("cuMemcpyDtoH", () -> (int) dtoh.invokeExact(MemorySegment.ofArray(into), address, 8L * into.length));
    }

    public void copy(long from, long to, long floats) {
        if (floats == 0) return;
        makeCurrent();
        call("cuMemcpyDtoD", () -> (int) dtod.invokeExact(to, from, 4L * floats));
    }

    /** Sets {@code floats} values from the address to {@code value}. */
    public void fill(long address, long floats, float value) {
        if (floats == 0) return;
        makeCurrent();
        int bits = Float.floatToRawIntBits(value);
        call("cuMemsetD32", () -> (int) memsetD32.invokeExact(address, bits, floats));
    }

    /** Waits until the GPU has finished everything issued so far. */
    public void synchronize() {
        makeCurrent();
        call("cuCtxSynchronize", () -> (int) synchronize.invokeExact());
    }

    void launch(MemorySegment function, int gridX, int gridY, int block, int sharedBytes, MemorySegment parameters) {
        makeCurrent();
        call("cuLaunchKernel", () -> (int) launch.invokeExact(function, gridX, gridY, 1, block, 1, 1, sharedBytes,
                MemorySegment.NULL, parameters, MemorySegment.NULL));
    }

    public Kernels kernels() {
        return kernels;
    }

    public Cublas cublas() {
        return cublas;
    }

    interface Status {
        int call() throws Throwable;
    }

    void call(String what, Status status) {
        int code;
        try {
            code = status.call();
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException(what + " failed: " + t);
        }
        check(what, code);
    }

    void check(String what, int status) {
        if (status == 0) return;
        String name = "error " + status;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(ADDRESS);
            if ((int) errorName.invokeExact(status, text) == 0) name = text.get(ADDRESS, 0).reinterpret(128).getString(0);
        } catch (Throwable ignored) {
            // keep the number
        }
        throw new CudaException(what + " failed on the GPU: " + name);
    }
}
