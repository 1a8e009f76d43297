package dev.jlens.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DeviceTest {
    @Test
    void theOptionWinsOverJlensDeviceAndTheCpuIsTheDefault() {
        assertEquals(Device.CPU, Device.choose(null, Map.of()));
        assertEquals(Device.CUDA, Device.choose(null, Map.of("JLENS_DEVICE", "CUDA")));
        assertEquals(Device.CPU, Device.choose("cpu", Map.of("JLENS_DEVICE", "cuda")));
        assertEquals(Device.CUDA, Device.choose("gpu", Map.of()));
        assertEquals("--device: unknown device 'tpu' (jlens knows cpu and cuda).",
                assertThrows(JlensException.class, () -> Device.choose("tpu", Map.of())).getMessage());
        assertEquals("JLENS_DEVICE: unknown device 'npu' (jlens knows cpu and cuda).",
                assertThrows(JlensException.class, () -> Device.choose(null, Map.of("JLENS_DEVICE", "npu"))).getMessage());
    }
}
