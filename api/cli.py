"""The `eventledger` command: the app's commands (api/commands.py) on an app built from the environment."""

import sys
from importlib.metadata import PackageNotFoundError, version

import click
from flask.cli import FlaskGroup

from api import create_app
from api.db import MissingDriver
from api.migrations import SchemaOutdated, SchemaTooNew

# Flask's own options (which app to load, a .env file, debug mode) do not apply: the app is this one, and
# it is configured from the environment (README, "Running it").
FLASK_OPTIONS = ("app", "env_file", "debug")


def package_version():
    try:
        return version("eventledger")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "source"


class EventledgerGroup(FlaskGroup):
    """Flask's command group with eventledger's options only, and a one-line message for a missing driver."""

    def __init__(self, **kwargs):
        super().__init__(add_default_commands=False, add_version_option=False, load_dotenv=False, **kwargs)
        self.params = [param for param in self.params if param.name not in FLASK_OPTIONS]

    def main(self, *args, **kwargs):
        kwargs.pop("standalone_mode", None)  # errors are shown here, each as one line
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except (MissingDriver, SchemaOutdated, SchemaTooNew) as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)


@click.group(cls=EventledgerGroup, create_app=create_app)
@click.version_option(package_version(), "--version", prog_name="eventledger", message="%(prog)s %(version)s")
def main():
    """eventledger: serve and maintain the dataset.

    Each command uses the database at DATABASE_URL (default: an embedded SQLite file; see README).
    """
