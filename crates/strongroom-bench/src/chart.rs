//! An SVG chart of throughput against thread count, one line per module.

use std::path::Path;

use plotters::prelude::*;

use crate::runner::Point;

const COLOURS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
];

/// Writes the chart of `points` (one operation) to `path`.
pub(crate) fn write_svg(path: &Path, op: &str, points: &[Point]) -> Result<(), String> {
    let mut modules: Vec<&str> = Vec::new();
    for p in points {
        if !modules.contains(&p.module.as_str()) {
            modules.push(&p.module);
        }
    }
    let max_threads = points.iter().map(|p| p.threads).max().unwrap_or(1) as f64;
    let max_ops = points.iter().map(|p| p.ops_per_sec).fold(1.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    let e = |e: DrawingAreaErrorKind<_>| format!("{}: {e:?}", path.display());
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{op}: operations per second"), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..max_threads + 1.0, 0.0..max_ops)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("client threads")
        .y_desc("ops/s")
        .draw()
        .map_err(e)?;
    for (i, module) in modules.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let series: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.module == *module)
            .map(|p| (p.threads as f64, p.ops_per_sec))
            .collect();
        chart
            .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))
            .map_err(e)?
            .label(*module)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        chart
            .draw_series(
                series
                    .into_iter()
                    .map(|xy| Circle::new(xy, 4, colour.filled())),
            )
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}
