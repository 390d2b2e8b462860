import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from anshin.core import loadgen


class Command(BaseCommand):
    help = ("Fill an empty, migrated PostgreSQL database with a realistic, deterministic data set for the "
            "benchmarks (bulk COPY) and write the manifest var/loadgen.json.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--scale", type=float, default=1.0,
                            help="multiplies every default size (0.1 = the 10k growth point)")
        for name, default in loadgen.DEFAULT_SIZES.items():
            parser.add_argument(f"--{name.replace('_', '-')}", type=int, dest=name,
                                help=f"default {default:,} × scale")
        parser.add_argument("--listings", type=int, help="default orders / 5")
        parser.add_argument("--reset", action="store_true", help="TRUNCATE every application table first")
        parser.add_argument("--manifest", default=str(settings.VAR_DIR / "loadgen.json"))

    def handle(self, *args, seed, scale, reset, manifest, **options):
        overrides = {name: options[name] for name in [*loadgen.DEFAULT_SIZES, "listings"]}
        sizes = loadgen.sizes_for(scale, **overrides)
        self.stdout.write(f"loadgen seed={seed} scale={scale} {sizes}")
        try:
            result = loadgen.generate(sizes=sizes, seed=seed, reset=reset, log=self.stdout.write)
        except loadgen.LoadgenError as e:
            raise CommandError(str(e)) from None
        result["scale"] = scale
        with open(manifest, "w") as f:
            json.dump(result, f, ensure_ascii=False, indent=2)
        self.stdout.write(f"done in {result['elapsed_seconds']}s; manifest: {manifest}")
