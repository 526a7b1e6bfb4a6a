// Start @20minutes/s3rver 4.0.4, whose npm tarball lacks the bin/ script
// its package.json names.  Arguments as for the s3rver CLI.
require('@20minutes/s3rver/lib/cli.js')
	.parseAsync(process.argv)
	.catch((e) => {
		console.error(e);
		process.exit(1);
	});
