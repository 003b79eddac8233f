//! The interactive state of `top`: its [`Order`] and the filter prompt,
//! and what each key does to them.
//!
//! Keys: `q`, Esc and Ctrl-C quit; `s` cycles the sort key; `/` opens the
//! filter prompt, where typed text edits the filter (shown live), Enter
//! keeps it, Esc restores the one before and Backspace deletes. Ctrl-C
//! quits from the prompt too. The terminal's keys are translated to
//! [`Key`] by the caller, so this state machine is tested without one.

use super::order::Order;

/// A key press, as far as `top` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Esc.
    Esc,
    /// Backspace.
    Backspace,
    /// Ctrl-C.
    Interrupt,
}

/// What to do after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Keep running; draw again if the state changed.
    Continue,
    /// Restore the terminal and exit.
    Quit,
}

/// The state (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct App {
    /// The sort key and filter in force.
    pub order: Order,
    /// While the filter prompt is open: the filter before it opened.
    editing: Option<String>,
}

impl App {
    /// The state `top` starts with.
    ///
    /// ```
    /// use zerocp_daemon::ctl::top::{App, Key, Order, SortKey, Step};
    /// let mut app = App::new(Order::default());
    /// assert_eq!(app.on_key(Key::Char('s')), Step::Continue);
    /// assert_eq!(app.order.sort, SortKey::Pid);
    /// assert_eq!(app.on_key(Key::Char('q')), Step::Quit);
    /// ```
    pub fn new(order: Order) -> Self {
        Self {
            order,
            editing: None,
        }
    }

    /// Whether the filter prompt is open.
    pub fn prompting(&self) -> bool {
        self.editing.is_some()
    }

    /// Applies `key` (module docs).
    pub fn on_key(&mut self, key: Key) -> Step {
        match (self.editing.take(), key) {
            (_, Key::Interrupt) | (None, Key::Char('q') | Key::Esc) => return Step::Quit,
            (Some(before), Key::Esc) => self.order.filter = before,
            (Some(_), Key::Enter) => {}
            (Some(before), Key::Backspace) => {
                self.order.filter.pop();
                self.editing = Some(before);
            }
            (Some(before), Key::Char(c)) => {
                self.order.filter.push(c);
                self.editing = Some(before);
            }
            (None, Key::Char('s')) => self.order.sort = self.order.sort.next(),
            (None, Key::Char('/')) => self.editing = Some(self.order.filter.clone()),
            (None, _) => {}
        }
        Step::Continue
    }

    /// The status line under the panels: the keys, the sort key and the
    /// filter (or the prompt).
    pub fn status_line(&self) -> String {
        if self.prompting() {
            return format!(
                "filter: {}_   (Enter: keep, Esc: cancel)",
                self.order.filter
            );
        }
        let filter = match self.order.filter.as_str() {
            "" => String::new(),
            text => format!("   filter: {text:?}"),
        };
        format!(
            "q: quit   s: sort ({})   /: filter{filter}",
            self.order.sort
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(app: &mut App, text: &str) {
        for c in text.chars() {
            assert_eq!(app.on_key(Key::Char(c)), Step::Continue);
        }
    }

    #[test]
    fn q_esc_and_ctrl_c_quit() {
        for key in [Key::Char('q'), Key::Esc, Key::Interrupt] {
            assert_eq!(App::default().on_key(key), Step::Quit, "{key:?}");
        }
        let mut app = App::default();
        assert_eq!(app.on_key(Key::Char('x')), Step::Continue);
        assert_eq!(app.on_key(Key::Enter), Step::Continue);
    }

    #[test]
    fn s_cycles_the_sort_key() {
        let mut app = App::default();
        for expected in ["pid", "rate", "bandwidth", "drops", "name"] {
            app.on_key(Key::Char('s'));
            assert_eq!(app.order.sort.name(), expected);
        }
        assert!(app.status_line().contains("sort (name)"));
    }

    #[test]
    fn the_filter_prompt_edits_keeps_and_cancels() {
        let mut app = App::default();
        app.on_key(Key::Char('/'));
        assert!(app.prompting());
        typed(&mut app, "cams");
        app.on_key(Key::Backspace);
        assert_eq!(app.order.filter, "cam", "shown while typed");
        assert!(app.status_line().starts_with("filter: cam_"));
        typed(&mut app, "q");
        assert_eq!(app.on_key(Key::Enter), Step::Continue);
        assert!(!app.prompting());
        assert_eq!(app.order.filter, "camq", "q is text in the prompt");
        assert!(app.status_line().contains("filter: \"camq\""));

        app.on_key(Key::Char('/'));
        typed(&mut app, "xyz");
        app.on_key(Key::Esc);
        assert_eq!(app.order.filter, "camq", "Esc restores the filter");
        assert!(!app.prompting());

        app.on_key(Key::Char('/'));
        assert_eq!(app.on_key(Key::Interrupt), Step::Quit);
    }
}
