// A library made on the fly: copies of the given image files in a temp folder, a store beside it, the folder imported.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './files.ts';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { importFolder } from '../../src-main/engine/library/scan.ts';

export interface TempLibrary { dir: string; folder: string; dbFile: string; store: Store; libraryId: number }

export async function tempLibrary(files: string[], folderName = 'images'): Promise<TempLibrary> {
  const dir = tempDir();
  const folder = path.join(dir, folderName);
  mkdirSync(folder);
  for (const f of files) copyFileSync(f, path.join(folder, path.basename(f)));
  const dbFile = path.join(dir, 'studio.db');
  const store = openStore(dbFile);
  const libraryId = (await importFolder(store, folder)).library.id;
  return { dir, folder, dbFile, store, libraryId };
}
