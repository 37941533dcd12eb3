//! Entry point: no arguments opens the window; a subcommand runs headless. An error is printed once, on stderr,
//! with its causes, and becomes the exit status (2 bad input, 1 computation, 3 no window), never a panic message.

use clap::Parser;
use lenet_playground::app::{fixed_dir_picker, state::Settings, PlaygroundApp};
use lenet_playground::cli::{self, Cli};
use std::error::Error as StdError;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    // First, before the window or any other thread exists.
    lenet_playground::startup::init_compute();
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return argument_error(e),
    };
    match args.command {
        Some(cmd) => match cli::run(cmd) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                // Not eprintln!: a closed stderr (`2>&1 | head -1`) must not turn the exit status into a panic's.
                // The library's errors carry their causes in one line.
                cli::print_stderr(&format!("error: {}\n", e.report()));
                exit_code(cli::exit_code(&e))
            }
        },
        None => match run_window() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let no_display = std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none();
                if no_display {
                    eprintln!(
                        "error: cannot open the window: no display (neither DISPLAY nor WAYLAND_DISPLAY is set). \
                         Run it in a desktop session, or use a subcommand (see --help). ({})",
                        with_causes(&e)
                    );
                } else {
                    eprintln!("error: cannot open the window: {}", with_causes(&e));
                }
                ExitCode::from(3)
            }
        },
    }
}

/// Help, the version, or why the arguments are refused, as clap words it; but a value echoed back (`--arch`, a
/// file name) has its control and text-direction characters escaped, as every other outside text we print.
fn argument_error(e: clap::Error) -> ExitCode {
    let text: Vec<String> = e.render().to_string().lines().map(lenet_playground::error::printable).collect();
    let text = format!("{}\n", text.join("\n"));
    if e.use_stderr() {
        cli::print_stderr(&text);
    } else {
        cli::print_stdout(&text);
    }
    exit_code(e.exit_code())
}

/// Opens the window and runs it until it is closed.
fn run_window() -> Result<(), eframe::Error> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("LeNet-5 Playground")
        // The desktop entry's StartupWMClass: the desktop matches the window to its entry and icon.
        .with_app_id(APP_ID)
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([900.0, 600.0]);
    match window_icon() {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(e) => eprintln!("warning: the window has no icon: {e}"),
    }
    let options = eframe::NativeOptions { viewport, persist_window: true, ..Default::default() };
    eframe::run_native(
        "LeNet-5 Playground",
        options,
        Box::new(|cc| {
            let settings: Settings = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
            let mut app = PlaygroundApp::new(&cc.egui_ctx, settings, None);
            // Runs are kept in the data folder ($LENET_PLAYGROUND_HOME, else the platform's data directory).
            match lenet_playground::engine::store::runs::data_dir() {
                Ok(dir) => app.set_data_home(dir),
                Err(e) => eprintln!("warning: runs will not be kept: {e}"),
            }
            // Scripted sessions and screenshots: every save/load question answers DIR/<default name>, no dialog.
            if let Some(dir) = std::env::var_os("LENET_PLAYGROUND_EXPORT_DIR") {
                app.set_path_picker(fixed_dir_picker(PathBuf::from(dir)));
            }
            Ok(Box::new(app))
        }),
    )
}

/// The app id of the window, the desktop entry (assets/desktop/lenet-playground.desktop) and the package.
const APP_ID: &str = "lenet-playground";

/// The icon the desktop entry shows (drawn by assets/desktop/make_icons.py), built into the binary so that the
/// window has it wherever the binary runs from.
fn window_icon() -> Result<egui::IconData, image::ImageError> {
    eframe::icon_data::from_png_bytes(include_bytes!("../assets/desktop/icons/lenet-playground-256.png"))
}

/// A window error and its causes on one line, "outer: cause: root". A cause whose text the message already
/// contains (an error that formats its source into itself) is not repeated.
fn with_causes(e: &dyn StdError) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_icon_is_the_entrys_256_pixel_icon_and_not_blank() {
        let icon = window_icon().expect("the embedded icon decodes");
        assert_eq!((icon.width, icon.height), (256, 256));
        let opaque = icon.rgba.chunks(4).filter(|p| p[3] == 255).count();
        assert!(opaque > 256 * 256 / 2, "the card covers most of the icon ({opaque} opaque pixels)");
        let ink = icon.rgba.chunks(4).filter(|p| p[0] > 200 && p[1] > 150).count();
        assert!(ink > 1000, "the digit's bright tiles are drawn ({ink} pixels)");
    }

    #[test]
    fn the_window_the_desktop_entry_and_the_package_share_one_app_id() {
        let entry = include_str!("../assets/desktop/lenet-playground.desktop");
        let value = |key: &str| {
            entry.lines().find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('='))).map(str::trim)
        };
        assert_eq!(value("StartupWMClass"), Some(APP_ID));
        assert_eq!(value("Icon"), Some(APP_ID));
        assert_eq!(value("Exec"), Some(env!("CARGO_BIN_NAME")));
        let categories = value("Categories").unwrap_or_default();
        assert!(categories.contains("Education;") && categories.contains("Science;"), "{categories}");
    }
}
