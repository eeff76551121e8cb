package io.jdispatch.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What bench/run reports for a row paired with its C floor (BenchMain.runFloorPaired's output). */
class ReportTest {
    private static final Rows.Row ROW = new Rows.Row("op", "ours", "c.floor", Map.of(), new Rows.Target("floor", 1.2));

    @Test
    void aFloorPairedRowTakesTheMedianOfItsPairsRatiosNotTheRatioOfTheMedians() {
        Measurements m = new Measurements();
        // Ratios 3.0, 1.1, 1.0: median 1.1. The medians of the sides (300 / 100) would give 3.0.
        m.putPair("ours", 300, "c.floor", 100, "ns/op");
        m.putPair("ours", 330, "c.floor", 300, "ns/op");
        m.putPair("ours", 100, "c.floor", 100, "ns/op");
        m.put("ours", 300, "ns/op");
        m.put("c.floor", 100, "ns/op");

        String md = new Report(List.of(ROW), m, "test machine").markdown();

        String row = md.lines().filter(l -> l.startsWith("| op |")).findFirst().orElseThrow();
        assertTrue(row.contains("| 1.10x (3 pairs 1.00x-3.00x) |"), row);
        assertTrue(row.endsWith("| ours/floor <= 1.2 | yes |"), row);
        assertTrue(md.contains("- pairs ours / c.floor (ns/op, ratio): 300.000 / 100.000 = 3.000;"), md);
    }

    @Test
    void anUnpairedRowIsTheRatioOfItsValuesAndMissesItsTarget() {
        Measurements m = new Measurements();
        m.put("ours", 1.3, "us/op");
        m.put("c.floor", 1000, "ns/op");

        String md = new Report(List.of(ROW), m, "test machine").markdown();

        String row = md.lines().filter(l -> l.startsWith("| op |")).findFirst().orElseThrow();
        assertTrue(row.contains("| 1.30x |"), row);
        assertTrue(row.endsWith("| ours/floor <= 1.2 | **no** |"), row);
        assertEquals(-1, md.indexOf("Paired forks"), md);
    }
}
