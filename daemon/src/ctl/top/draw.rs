//! The terminal view of `top`: one frame drawn with ratatui.
//!
//! From top to bottom: the heading (domain, interval of the rates), the
//! four [`panels`] as bordered tables (each given room in proportion to
//! its rows; a panel with more rows than room shows its first ones), and
//! the status line (keys, sort key, filter or the filter prompt). Columns
//! are as wide as their widest cell, as in `--once`'s tables. Drawing
//! depends on nothing but the frame and the [`App`]; the terminal itself
//! is [`super::terminal`]'s.

use ratatui::layout::Constraint;
use ratatui::layout::Layout;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use super::app::App;
use super::frame::Frame;
use super::panels::{Panel, heading, panels};

/// Draws `frame`, ordered as `app` says, on `canvas`.
pub fn draw(canvas: &mut ratatui::Frame<'_>, frame: &Frame, app: &App) {
    let shown = app.order.apply(frame);
    let panels = panels(&shown);
    let mut constraints = vec![Constraint::Length(1)];
    constraints.extend(panels.iter().map(|p| {
        let rows = u16::try_from(p.rows.len()).unwrap_or(u16::MAX);
        Constraint::Fill(rows.saturating_add(3))
    }));
    constraints.push(Constraint::Length(1));
    let areas = Layout::vertical(constraints).split(canvas.area());
    canvas.render_widget(Paragraph::new(heading(&shown)), areas[0]);
    for (panel, area) in panels.iter().zip(&areas[1..]) {
        canvas.render_widget(table(panel), *area);
    }
    let status =
        Paragraph::new(app.status_line()).style(Style::new().add_modifier(Modifier::REVERSED));
    canvas.render_widget(status, areas[areas.len() - 1]);
}

/// `panel` as a bordered table titled with its name and row count.
fn table(panel: &Panel) -> Table<'_> {
    let mut widths: Vec<usize> = panel.header.iter().map(|h| h.len()).collect();
    for row in &panel.rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let widths = widths
        .into_iter()
        .map(|w| Constraint::Length(u16::try_from(w).unwrap_or(u16::MAX)));
    let header =
        Row::new(panel.header.iter().copied()).style(Style::new().add_modifier(Modifier::BOLD));
    let rows = panel
        .rows
        .iter()
        .map(|r| Row::new(r.iter().map(String::as_str)));
    Table::new(rows, widths)
        .header(header)
        .column_spacing(2)
        .block(Block::bordered().title(format!(" {} ({}) ", panel.title, panel.rows.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctl::top::frame::{ProcessRow, ServiceRow};
    use crate::ctl::top::order::Order;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn frame() -> Frame {
        let process = |pid, name: &str| ProcessRow {
            pid,
            name: name.into(),
            state: "alive",
            heartbeat_age_ms: 5,
            chunks_held: 0,
        };
        Frame {
            domain: "demo".into(),
            interval_s: Some(1.0),
            processes: vec![process(7, "camera"), process(8, "lidar")],
            services: vec![ServiceRow {
                service: "Cam/front/Image".into(),
                type_name: "Image".into(),
                shape: "sized",
                payload_size: 64,
                publishers: 1,
                subscribers: 0,
                processes: vec!["camera".into()],
                publish_rate_hz: Some(30.0),
                bytes_per_s: Some(1920.0),
                dropped: 0,
            }],
            subscribers: Vec::new(),
            mempools: Vec::new(),
        }
    }

    /// The screen's lines after drawing `frame` for `app`.
    fn screen(app: &App) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal.draw(|canvas| draw(canvas, &frame(), app)).unwrap();
        let buffer = terminal.backend().buffer();
        let width = usize::from(buffer.area.width);
        let cells: Vec<&str> = buffer.content().iter().map(|c| c.symbol()).collect();
        cells.chunks(width).map(|line| line.concat()).collect()
    }

    #[test]
    fn the_view_shows_every_panel_the_rows_and_the_keys() {
        let lines = screen(&App::default());
        let all = lines.join("\n");
        assert!(
            lines[0].starts_with("zerocp domain demo: rates over 1.00 s"),
            "{all}"
        );
        for title in [
            " Processes (2) ",
            " Services (1) ",
            " Subscribers (0) ",
            " Mempools (0) ",
        ] {
            assert!(all.contains(title), "{title}: {all}");
        }
        assert!(all.contains("camera") && all.contains("lidar"), "{all}");
        assert!(all.contains("30.0/s") && all.contains("1.92 KB/s"), "{all}");
        assert!(lines[29].starts_with("q: quit   s: sort (name)"), "{all}");
    }

    #[test]
    fn the_view_draws_the_filtered_frame() {
        let app = App::new(Order {
            filter: "lidar".into(),
            ..Order::default()
        });
        let all = screen(&app).join("\n");
        assert!(
            all.contains(" Processes (1) ") && all.contains(" Services (0) "),
            "{all}"
        );
        assert!(!all.contains("camera"), "{all}");
    }
}
