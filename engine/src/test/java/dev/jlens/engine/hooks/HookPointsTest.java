package dev.jlens.engine.hooks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class HookPointsTest {
    private final HookPoints points = new HookPoints();
    private final HookPoint residPre = points.register("blocks.0.hook_resid_pre");
    private final HookPoint attnOut = points.register("blocks.0.hook_attn_out");
    private final HookPoint mlpPost = points.register("blocks.0.mlp.hook_post");

    @Test
    void withoutHooksAHookPointIsTheIdentity() {
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 1, 3);
        assertSame(x, residPre.forward(x));
        assertSame(x, residPre.backward(x));
    }

    @Test
    void forwardHooksReplaceInOrderAndScopesRemoveThem() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2);
        try (HookScope scope = points.scope()) {
            scope.forward("blocks.0.mlp.hook_post", (a, p) -> Tensor.of(new float[] {a.get(0) * 10, a.get(1) * 10}, 2));
            scope.forward("blocks.0.mlp.hook_post", (a, p) -> Tensor.of(new float[] {a.get(0) + 1, a.get(1) + 1}, 2));
            assertArrayEquals(new float[] {11, 21}, mlpPost.forward(x).data());
        }
        assertFalse(mlpPost.hasForwardHooks());
        assertSame(x, mlpPost.forward(x));
    }

    @Test
    void backwardHooksReadAndReplaceGradients() {
        Tensor grad = Tensor.of(new float[] {0.5f}, 1);
        try (HookScope scope = points.scope()) {
            ActivationCache grads = ActivationCache.recordGradients(scope, NameFilter.all());
            scope.backward("blocks.0.hook_attn_out", (g, p) -> Tensor.of(new float[] {-g.get(0)}, 1));
            assertArrayEquals(new float[] {-0.5f}, attnOut.backward(grad).data());
            assertSame(grad, grads.get("blocks.0.hook_attn_out"), "the recorder was added first, so it saw the original");
        }
        assertFalse(attnOut.hasBackwardHooks());
    }

    @Test
    void aHookMayNotChangeTheShape() {
        try (HookScope scope = points.scope()) {
            scope.forward("blocks.0.hook_resid_pre", (a, p) -> Tensor.zeros(3));
            JlensException e = assertThrows(JlensException.class, () -> residPre.forward(Tensor.zeros(2)));
            assertTrue(e.getMessage().contains("blocks.0.hook_resid_pre returned shape [3]"), e.getMessage());
        }
    }

    @Test
    void cacheRecordsOnlyWhatTheFilterSelects() {
        try (HookScope scope = points.scope()) {
            ActivationCache cache = ActivationCache.recordActivations(scope, NameFilter.regex("blocks\\.0\\.hook_.*"));
            for (HookPoint p : List.of(residPre, attnOut, mlpPost)) p.forward(Tensor.scalar(1));
            assertEquals(List.of("blocks.0.hook_resid_pre", "blocks.0.hook_attn_out"), cache.names());
            JlensException e = assertThrows(JlensException.class, () -> cache.get("blocks.0.mlp.hook_post"));
            assertTrue(e.getMessage().contains("blocks.0.mlp.hook_post"), e.getMessage());
        }
    }

    @Test
    void filtersSelectByExactNameRegexAndSuffix() {
        assertEquals(List.of(mlpPost), points.select(NameFilter.endingWith("hook_post")));
        assertEquals(List.of(residPre, mlpPost), points.select(NameFilter.exactly("blocks.0.mlp.hook_post", "blocks.0.hook_resid_pre")));
        assertEquals(List.of(residPre, attnOut), points.select(NameFilter.regex("blocks\\.0\\.hook_.*")));
        assertEquals(3, points.select(NameFilter.all()).size());
    }

    @Test
    void unknownNamesSuggestTheClosest() {
        JlensException e = assertThrows(JlensException.class, () -> points.get("blocks.0.hook_attn_ot"));
        assertTrue(e.getMessage().startsWith("unknown hook point 'blocks.0.hook_attn_ot'; the closest are blocks.0.hook_attn_out"),
                e.getMessage());
        assertThrows(JlensException.class, () -> points.scope().forward("nope", (a, p) -> null));
    }

    @Test
    void editDistanceCountsInsertionsDeletionsAndSubstitutions() {
        assertEquals(0, HookPoints.editDistance("abc", "abc"));
        assertEquals(1, HookPoints.editDistance("abc", "abd"));
        assertEquals(1, HookPoints.editDistance("abc", "ab"));
        assertEquals(3, HookPoints.editDistance("kitten", "sitting"));
    }
}
