//! Progress output: one live line per active stack on a terminal, plain timestamped lines
//! otherwise (CI, pipes, logs).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Reports what the deployer does. Cheap to clone; safe to use from concurrent tasks.
#[derive(Debug, Clone)]
pub struct Reporter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    live: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
    lines: Mutex<Vec<String>>,
}

impl Reporter {
    /// Live bars when stdout is a terminal, plain lines otherwise.
    pub fn auto() -> Self {
        Reporter::new(std::io::stdout().is_terminal())
    }

    /// Plain lines, also kept in memory (tests read them with [`Reporter::lines`]).
    pub fn plain() -> Self {
        Reporter::new(false)
    }

    fn new(live: bool) -> Self {
        Reporter {
            inner: Arc::new(Inner {
                live: live.then(MultiProgress::new),
                bars: Mutex::new(HashMap::new()),
                lines: Mutex::new(Vec::new()),
            }),
        }
    }

    fn timestamp() -> String {
        humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
    }

    fn line(&self, text: String) {
        let line = format!("{} {text}", Reporter::timestamp());
        match &self.inner.live {
            Some(m) => {
                let _ = m.println(&text);
            }
            None => println!("{line}"),
        }
        if let Ok(mut l) = self.inner.lines.lock() {
            l.push(line);
        }
    }

    /// A general message.
    pub fn info(&self, text: &str) {
        self.line(text.to_owned());
    }

    /// A stack starts being worked on.
    pub fn begin(&self, stack: &str, what: &str) {
        if let Some(m) = &self.inner.live {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(stack.to_owned());
            bar.set_message(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            if let Ok(mut bars) = self.inner.bars.lock() {
                bars.insert(stack.to_owned(), bar);
            }
        }
        self.line(format!("{stack}: {what}"));
    }

    /// Progress of a stack (a resource event, a change).
    pub fn event(&self, stack: &str, text: &str) {
        if let Some(bar) = self
            .inner
            .bars
            .lock()
            .ok()
            .and_then(|b| b.get(stack).cloned())
        {
            bar.set_message(text.to_owned());
        }
        if self.inner.live.is_none() {
            self.line(format!("{stack}: {text}"));
        } else if let Ok(mut l) = self.inner.lines.lock() {
            l.push(format!("{} {stack}: {text}", Reporter::timestamp()));
        }
    }

    /// A stack is done (`text` says how).
    pub fn finish(&self, stack: &str, text: &str) {
        if let Some(bar) = self
            .inner
            .bars
            .lock()
            .ok()
            .and_then(|mut b| b.remove(stack))
        {
            bar.finish_and_clear();
        }
        self.line(format!("{stack}: {text}"));
    }

    /// Every line reported so far, with timestamps.
    pub fn lines(&self) -> Vec<String> {
        self.inner
            .lines
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}
