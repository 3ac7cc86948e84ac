//! The shell's [`Terminal`] over an SSH channel, used from a blocking thread: input arrives as
//! byte chunks from the async side, output leaves through an unbounded queue.
//!
//! With a PTY the client's terminal is raw, so this is the line editor: echo, backspace,
//! Ctrl-U (erase the line), Ctrl-C (abandon the line), Ctrl-D on an empty line (end),
//! left/right arrows, Home/End (Ctrl-A/Ctrl-E), Delete, and history with up/down. Secrets
//! echo one `*` per character. Without a PTY (piped input) lines end with `\n`, nothing is
//! echoed by the client, and the transcript shows the input as the local console does.

use std::collections::VecDeque;

use strongroom_module::Secret;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use zeroize::{Zeroize, Zeroizing};

use crate::shell::Terminal;

const MAX_LINE: usize = 4096;
const HISTORY: usize = 64;

/// What reading one line ended with.
enum Ending {
    Line,
    /// Ctrl-C.
    Abandoned,
    /// Ctrl-D on an empty line, or the input ended.
    End,
}

/// The shell's end of an SSH session channel.
pub(crate) struct SshTerminal {
    input: UnboundedReceiver<Vec<u8>>,
    output: UnboundedSender<Vec<u8>>,
    pty: bool,
    /// Received bytes not consumed yet.
    pending: VecDeque<u8>,
    /// The input has ended (the channel sent EOF or closed).
    closed: bool,
    /// The previous byte was `\r` (so a following `\n` is not a second line).
    after_cr: bool,
    history: Vec<String>,
}

impl SshTerminal {
    pub(crate) fn new(
        input: UnboundedReceiver<Vec<u8>>,
        output: UnboundedSender<Vec<u8>>,
        pty: bool,
    ) -> Self {
        Self {
            input,
            output,
            pty,
            pending: VecDeque::new(),
            closed: false,
            after_cr: false,
            history: Vec::new(),
        }
    }

    fn send(&self, text: &str) {
        let bytes = if self.pty {
            text.replace('\n', "\r\n").into_bytes()
        } else {
            text.as_bytes().to_vec()
        };
        // A closed connection: the output has nowhere to go, and input ends too.
        let _ = self.output.send(bytes);
    }

    /// The next input byte, waiting for it; `None` when the input has ended.
    fn next_byte(&mut self) -> Option<u8> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(b);
            }
            if self.closed {
                return None;
            }
            match self.input.blocking_recv() {
                Some(mut chunk) => {
                    self.pending.extend(chunk.iter().copied());
                    chunk.zeroize();
                }
                None => self.closed = true,
            }
        }
    }

    /// Reads one line. `mask` shows `*` per character instead of the text (PTY only).
    fn read(&mut self, prompt: &str, mask: bool, history: bool) -> (Ending, Zeroizing<String>) {
        if self.pty {
            self.read_pty(prompt, mask, history)
        } else {
            self.read_plain(prompt)
        }
    }

    fn read_plain(&mut self, prompt: &str) -> (Ending, Zeroizing<String>) {
        self.send(prompt);
        let mut raw = Zeroizing::new(Vec::new());
        loop {
            match self.next_byte() {
                None if raw.is_empty() => return (Ending::End, Zeroizing::new(String::new())),
                None | Some(b'\n') => break,
                Some(b'\r') => {}
                Some(b) => {
                    if raw.len() < MAX_LINE {
                        raw.push(b);
                    }
                }
            }
        }
        let line = Zeroizing::new(String::from_utf8_lossy(&raw).into_owned());
        (Ending::Line, line)
    }

    fn read_pty(&mut self, prompt: &str, mask: bool, history: bool) -> (Ending, Zeroizing<String>) {
        self.send(prompt);
        let mut line: Zeroizing<Vec<char>> = Zeroizing::new(Vec::new());
        let mut cursor = 0usize;
        let mut utf8: Vec<u8> = Vec::new();
        let mut hist_pos = self.history.len();
        loop {
            let Some(b) = self.next_byte() else {
                self.send("\n");
                return (Ending::End, Zeroizing::new(String::new()));
            };
            let was_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if was_cr => continue,
                b'\r' | b'\n' => {
                    self.send("\n");
                    let text: String = line.iter().collect();
                    return (Ending::Line, Zeroizing::new(text));
                }
                0x03 => {
                    self.send("^C\n");
                    return (Ending::Abandoned, Zeroizing::new(String::new()));
                }
                0x04 if line.is_empty() => {
                    self.send("\n");
                    return (Ending::End, Zeroizing::new(String::new()));
                }
                0x04 if cursor < line.len() => {
                    line.remove(cursor);
                }
                0x04 => {}
                0x7f | 0x08 if cursor > 0 => {
                    cursor -= 1;
                    line.remove(cursor);
                }
                0x7f | 0x08 => {}
                0x15 => {
                    line.clear();
                    cursor = 0;
                }
                0x01 => cursor = 0,
                0x05 => cursor = line.len(),
                0x1b => match self.escape() {
                    Some(Key::Left) => cursor = cursor.saturating_sub(1),
                    Some(Key::Right) => cursor = (cursor + 1).min(line.len()),
                    Some(Key::Home) => cursor = 0,
                    Some(Key::End) => cursor = line.len(),
                    Some(Key::Delete) if cursor < line.len() => {
                        line.remove(cursor);
                    }
                    Some(Key::Up) if history && hist_pos > 0 => {
                        hist_pos -= 1;
                        *line = self.history[hist_pos].chars().collect();
                        cursor = line.len();
                    }
                    Some(Key::Down) if history && hist_pos < self.history.len() => {
                        hist_pos += 1;
                        *line = self
                            .history
                            .get(hist_pos)
                            .map(|h| h.chars().collect())
                            .unwrap_or_default();
                        cursor = line.len();
                    }
                    _ => {}
                },
                b if b < 0x20 => {}
                b => {
                    utf8.push(b);
                    match std::str::from_utf8(&utf8) {
                        Ok(s) => {
                            if line.len() < MAX_LINE {
                                for c in s.chars() {
                                    line.insert(cursor, c);
                                    cursor += 1;
                                }
                            }
                            utf8.zeroize();
                            utf8.clear();
                        }
                        Err(e) if e.error_len().is_some() || utf8.len() >= 4 => {
                            utf8.zeroize();
                            utf8.clear();
                        }
                        Err(_) => continue,
                    }
                }
            }
            self.redraw(prompt, &line, cursor, mask);
        }
    }

    /// Rewrites the line after the prompt.
    fn redraw(&self, prompt: &str, line: &[char], cursor: usize, mask: bool) {
        let mut out = Zeroizing::new(String::from("\r"));
        out.push_str(prompt);
        if mask {
            out.extend(std::iter::repeat_n('*', line.len()));
        } else {
            out.extend(line.iter());
        }
        out.push_str("\x1b[K");
        let back = line.len() - cursor;
        if back > 0 {
            out.push_str(&format!("\x1b[{back}D"));
        }
        let _ = self.output.send(out.as_bytes().to_vec());
    }

    /// Decodes the rest of an escape sequence (after ESC).
    fn escape(&mut self) -> Option<Key> {
        let first = self.next_byte()?;
        if first != b'[' && first != b'O' {
            return None;
        }
        let mut params = Vec::new();
        loop {
            let b = self.next_byte()?;
            if (0x40..=0x7e).contains(&b) {
                return match (b, params.as_slice()) {
                    (b'A', _) => Some(Key::Up),
                    (b'B', _) => Some(Key::Down),
                    (b'C', _) => Some(Key::Right),
                    (b'D', _) => Some(Key::Left),
                    (b'H', _) => Some(Key::Home),
                    (b'F', _) => Some(Key::End),
                    (b'~', [b'1']) | (b'~', [b'7']) => Some(Key::Home),
                    (b'~', [b'4']) | (b'~', [b'8']) => Some(Key::End),
                    (b'~', [b'3']) => Some(Key::Delete),
                    _ => None,
                };
            }
            if params.len() > 8 {
                return None;
            }
            params.push(b);
        }
    }
}

enum Key {
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    Delete,
}

impl Terminal for SshTerminal {
    fn write(&mut self, text: &str) {
        self.send(text);
    }

    fn read_line(&mut self, prompt: &str) -> Option<String> {
        // The main prompt keeps a history; answers to `> ` questions do not.
        let history = prompt != "> ";
        let (ending, line) = self.read(prompt, false, history);
        match ending {
            Ending::End => None,
            Ending::Abandoned => Some(String::new()),
            Ending::Line => {
                if !self.pty {
                    self.send(&format!("{}\n", line.as_str()));
                }
                if history && !line.trim().is_empty() {
                    if self.history.len() >= HISTORY {
                        self.history.remove(0);
                    }
                    self.history.push(line.to_string());
                }
                Some(line.to_string())
            }
        }
    }

    fn read_secret(&mut self, prompt: &str) -> Option<Secret> {
        let (ending, line) = self.read(prompt, true, false);
        match ending {
            // Ctrl-C at a secret prompt abandons the command: nothing is tried with an empty
            // secret (a wrong SO password would count as a failed login).
            Ending::End | Ending::Abandoned => None,
            Ending::Line => {
                if !self.pty {
                    self.send("********\n");
                }
                Some(Secret::new(line.as_str()))
            }
        }
    }
}
