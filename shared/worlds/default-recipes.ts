/**
 * The recipe table of our own default world, "the artisan's workshop": woodworking, metalwork,
 * textiles, pigments, glass, pottery, candles, books and a little alchemy. Original content
 * (no Minecraft items), written as `parseRecipeTable` lines; families are generated from small
 * lists so every species, metal and colour gets the same set of recipes.
 */

const SPECIES = ['oak', 'ash', 'elm', 'walnut', 'pine'] as const;
const METALS = ['copper', 'tin', 'iron', 'zinc', 'silver', 'gold'] as const;
const PRIMARY_COLOURS = ['red', 'yellow', 'blue', 'white', 'black'] as const;
const MIXED_COLOURS = ['green', 'purple', 'orange'] as const;
const COLOURS = [...PRIMARY_COLOURS, ...MIXED_COLOURS] as const;

const woodwork = [
  ...SPECIES.flatMap((s) => [
    `4 ${s} timber @timber = 1 ${s} log`,
    `6 ${s} board @board = 3 ${s} timber`,
    `1 ${s} stool = 3 ${s} timber, 3 dowel`,
    `1 ${s} table = 4 ${s} board, 4 dowel`,
    `1 ${s} chair = 3 ${s} board, 2 dowel`,
    `1 ${s} chest = 8 ${s} timber, 2 brass hinge`,
    `1 ${s} door = 6 ${s} board, 2 iron hinge`,
    `1 ${s} bowl = 2 ${s} timber`,
  ]),
  '4 dowel = 2 #timber',
  '2 tool handle = 1 #timber',
  '1 workbench = 4 #timber',
  '1 mallet = 1 #timber, 1 dowel',
  '1 ladder = 7 dowel',
  '1 crate = 4 #board, 4 iron nail',
  '1 shelf = 3 #board, 4 iron nail',
  '1 bookshelf = 1 shelf, 3 book',
  '1 bucket = 3 #board, 1 iron band',
  '1 barrel = 6 #board, 2 iron band',
  '1 spinning wheel = 4 #board, 3 dowel, 1 bronze gear',
  '1 loom = 6 #board, 4 dowel, 1 rope',
];

const metalwork = [
  ...METALS.flatMap((m) => [
    `1 ${m} ingot @ingot = 2 ${m} ore, 1 coal`,
    `9 ${m} nugget = 1 ${m} ingot`,
    `1 ${m} sheet @sheet = 2 ${m} ingot`,
  ]),
  ...['copper', 'iron', 'silver', 'gold'].map((m) => `4 ${m} wire @wire = 1 ${m} ingot`),
  '2 bronze ingot @ingot = 3 copper ingot, 1 tin ingot',
  '2 brass ingot @ingot = 3 copper ingot, 1 zinc ingot',
  '2 pewter ingot @ingot = 3 tin ingot, 1 copper ingot',
  '1 steel ingot @ingot = 1 iron ingot, 2 coal',
  '1 bronze sheet @sheet = 2 bronze ingot',
  '1 brass sheet @sheet = 2 brass ingot',
  '1 pewter sheet @sheet = 2 pewter ingot',
  '4 steel wire @wire = 1 steel ingot',
  '8 iron nail = 1 iron ingot',
  '4 copper rivet = 1 copper ingot',
  '2 iron hinge = 1 iron ingot',
  '2 brass hinge = 1 brass ingot',
  '3 brass gear = 2 brass ingot',
  '2 bronze gear = 2 bronze ingot',
  '3 iron band = 1 iron sheet',
  '2 steel spring = 1 steel ingot',
  '4 iron needle = 1 iron wire',
  '1 hammer = 1 steel ingot, 1 tool handle',
  '1 chisel = 1 steel ingot, 1 tool handle',
  '1 saw = 2 steel ingot, 1 tool handle',
  '1 rasp = 1 steel ingot, 1 tool handle, 1 sand',
  '1 tongs = 2 iron ingot, 1 copper rivet',
  '1 anvil = 5 #ingot, 1 #timber',
  '1 bronze bell = 4 bronze ingot, 1 iron nail',
  '1 pewter tankard = 2 pewter ingot, 1 pewter sheet',
  '1 chain = 6 #wire',
  '1 silver ring = 2 silver wire',
  '1 gold ring = 2 gold wire',
  '1 signet ring = 1 gold ring, 1 quartz',
  '1 pocket watch = 3 brass gear, 1 steel spring, 1 glass lens, 1 gold sheet',
  '1 music box = 2 brass gear, 1 steel spring, 1 walnut board',
  '1 compass = 1 iron needle, 1 brass sheet, 1 glass lens',
  '1 spyglass = 2 glass lens, 1 brass sheet',
  '1 weather vane = 1 copper sheet, 2 iron wire',
];

const textiles = [
  '2 linen thread @thread = 1 flax',
  '2 wool yarn @thread = 1 fleece',
  '2 cotton thread @thread = 1 cotton boll',
  '3 silk thread @thread = 1 silk cocoon',
  '1 linen cloth @cloth = 4 linen thread',
  '1 wool cloth @cloth = 4 wool yarn',
  '1 cotton cloth @cloth = 4 cotton thread',
  '1 silk cloth @cloth = 4 silk thread',
  ...COLOURS.flatMap((c) => [
    `1 ${c} cloth @dyed cloth = 1 #cloth, 1 ${c} pigment`,
    `4 ${c} ribbon = 1 #thread, 1 ${c} pigment`,
  ]),
  ...['red', 'blue', 'white', 'green'].map((c) => `1 ${c} banner = 3 ${c} cloth, 1 dowel`),
  '1 rope = 4 #thread',
  '1 sack = 3 #cloth, 1 rope',
  '1 canvas = 2 linen cloth',
  '1 sail = 3 canvas, 2 rope',
  '1 tapestry = 4 #dyed cloth, 2 dowel',
  '1 quilt = 4 #cloth, 2 fleece',
  '1 apron = 2 linen cloth, 1 rope',
  '1 bedroll = 1 quilt, 1 rope',
];

const pigments = [
  '1 red pigment = 1 madder root',
  '1 red pigment = 2 rose hip',
  '1 yellow pigment = 1 weld flower',
  '1 blue pigment = 1 indigo leaf',
  '1 blue pigment = 2 woad leaf',
  '1 white pigment = 1 chalk',
  '1 black pigment = 1 oak gall',
  '2 black pigment = 1 coal',
  '2 green pigment = 1 blue pigment, 1 yellow pigment',
  '2 purple pigment = 1 red pigment, 1 blue pigment',
  '2 orange pigment = 1 red pigment, 1 yellow pigment',
];

const glassAndPottery = [
  '2 clear glass @glass = 2 sand, 1 potash',
  ...COLOURS.map((c) => `4 ${c} glass @glass = 4 clear glass, 1 ${c} pigment`),
  ...['red', 'blue', 'yellow', 'purple'].map((c) => `1 ${c} window = 4 ${c} glass, 2 #board`),
  '2 glass vial = 1 clear glass',
  '1 glass lens = 2 clear glass, 1 sand',
  '1 flask = 3 clear glass',
  '1 mirror = 1 clear glass, 1 silver sheet, 1 #board',
  '4 clay tile = 2 clay',
  '2 brick = 1 clay, 1 coal',
  '1 clay pot = 3 clay',
  ...COLOURS.map((c) => `4 ${c} tile @glazed tile = 4 clay tile, 1 ${c} pigment`),
  '1 kiln = 8 brick',
  '1 mosaic = 4 #glazed tile, 1 clay',
  '1 chimney = 6 brick, 1 iron band',
];

const candlesAndBooks = [
  '2 plain candle @candle = 1 beeswax, 1 #thread',
  '2 tallow candle @candle = 1 tallow, 1 #thread',
  ...['red', 'blue', 'white', 'purple'].map((c) => `1 ${c} candle @candle = 1 plain candle, 1 ${c} pigment`),
  '1 lantern = 1 #candle, 1 #glass, 1 iron band',
  '1 candlestick = 1 #sheet, 1 #candle',
  '3 paper = 3 reed',
  '1 leather = 1 rawhide, 1 sea salt',
  '1 book = 3 paper, 1 leather',
  '2 ink = 1 black pigment, 1 glass vial',
  '1 quill = 1 feather',
  '1 journal = 1 book, 1 ink',
  '1 map = 4 paper, 1 ink',
  '1 letter = 1 paper, 1 ink, 1 quill',
  '1 scroll = 2 paper, 1 dowel',
  '1 satchel = 2 leather, 1 brass hinge',
  '1 bellows = 2 leather, 2 #board',
];

const alchemy = [
  '2 dried sage @dried herb = 3 sage',
  '2 dried mint @dried herb = 3 mint',
  '2 dried thyme @dried herb = 3 thyme',
  '1 distilled water = 1 river water, 1 coal',
  '1 salt crystal = 2 sea salt',
  '1 ember powder = 2 ember moss',
  '1 mortar and pestle = 3 clay, 1 dowel',
  '1 incense = 2 #dried herb, 1 beeswax',
  '1 healing tonic = 1 flask, 1 distilled water, 2 #dried herb',
  '1 calming draught = 1 flask, 1 distilled water, 2 moonpetal',
  '1 fire tincture = 1 glass vial, 2 ember powder',
  '1 sleeping potion = 1 calming draught, 1 mandrake root',
  '1 smelling salts = 1 glass vial, 1 salt crystal, 1 dried mint',
  '1 alchemist kit = 1 flask, 2 glass vial, 1 mortar and pestle',
];

export const defaultRecipeTable: readonly string[] = [
  ...woodwork,
  ...metalwork,
  ...textiles,
  ...pigments,
  ...glassAndPottery,
  ...candlesAndBooks,
  ...alchemy,
];
