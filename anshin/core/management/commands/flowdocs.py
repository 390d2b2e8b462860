from django.core.management.base import BaseCommand, CommandError

from anshin.core import flowdocs


class Command(BaseCommand):
    help = "Write docs/flows.md from the flow tables; with --check, exit 1 if the committed file is stale."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="do not write; fail if docs/flows.md is stale")

    def handle(self, *args, check: bool, **options):
        path = flowdocs.output_path()
        text = flowdocs.render()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if check:
            if current != text:
                raise CommandError(f"{flowdocs.OUTPUT} is stale: run `make flowdocs` and commit it.")
            self.stdout.write(f"{flowdocs.OUTPUT} is up to date.")
            return
        if current == text:
            self.stdout.write(f"{flowdocs.OUTPUT} unchanged.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {flowdocs.OUTPUT}")
